"""The integrity suite: every rule of the evaluation protocol proven by a candidate that breaks it.

Each file `tests/integrity/candidates/<problem>/<case>.py` is a solution for
`examples/problems/<problem>.py`. Its first line says the verdict it must get
(`# expect: <verdict>`; `a|b` lists the verdicts a fix may reasonably give, used only for
known bugs below), its second line what it does. Cheats must be rejected with the right verdict
and an actionable reason; honest twins must be accepted.

All checks run on the CPU (Triton interpreter) with 2 shipped trials and 1 shape-variant trial:
enough for the caching cheats (two trials with different inputs in one process) and for the
shape-overfit ones (the variant), and cheap enough for CI. The selected candidates are checked
in parallel (KW_TEST_JOBS, default 2); each test then reads its own result.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from kernelwright.tools.check.reference_cache import ReferenceCache
from kernelwright.tools.check.verdicts import CheckResult, Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.problem import InputError

from paths import CANDIDATES, PROBLEMS, SOLUTIONS, TEST_PROBLEMS

# Secrets set in the parent for every check: none may reach the sandboxed child.
SECRETS = {"OPENAI_API_KEY": "sk-test-secret", "HF_TOKEN": "hf_test_secret", "KERNELWRIGHT_API_KEY": "kw-test-secret"}
TIMEOUT_S = 10.0  # for the `timeout` candidates; everything else gets 60 s
JOBS = max(1, int(os.environ.get("KW_TEST_JOBS", "2")))


@dataclass(frozen=True)
class Candidate:
    """One check to run: a solution file for a problem, the verdict(s) it must get, and options."""

    id: str  # "<problem>/<case>" for candidate files
    path: Path
    problem: Path
    expect: tuple[str, ...]
    what: str
    options: tuple[tuple[str, object], ...] = ()  # CheckOptions fields that differ from the suite's


def read_candidate(path: Path) -> Candidate:
    lines = path.read_text().splitlines()
    m = re.fullmatch(r"# expect: ([a-z_|]+)", lines[0].strip()) if lines else None
    assert m, f"{path}: the first line must be '# expect: <verdict>'"
    assert len(lines) > 1 and lines[1].startswith("# ") and len(lines[1]) > 10, f"{path}: the second line must say what it does"
    problem = PROBLEMS / f"{path.parent.name}.py"
    if not problem.is_file():  # KernelBench-shaped problems of the suite's own (tests/data/problems)
        problem = TEST_PROBLEMS / f"{path.parent.name}.py"
    return Candidate(
        id=f"{path.parent.name}/{path.stem}",
        path=path,
        problem=problem,
        expect=tuple(m.group(1).split("|")),
        what=lines[1][2:].strip(),
    )


CANDIDATE_LIST = [read_candidate(p) for p in sorted(CANDIDATES.glob("*/*.py"))]
BY_ID = {c.id: c for c in CANDIDATE_LIST}

# Pipeline bugs the suite found. Each test fails today; strict xfail turns a fix into an XPASS
# failure, so whoever fixes the pipeline removes the entry here (and the suite then guards it).
# Candidates that a known pipeline bug lets through (strict xfail: a fix turns them into failures
# to remove from here). Empty: every bug the suite found so far is fixed.
KNOWN_BUGS: dict[str, str] = {}
assert set(KNOWN_BUGS) <= set(BY_ID), set(KNOWN_BUGS) - set(BY_ID)

# Every cheat named in the evaluation protocol's list of known cheats (docs/integrity.md) and
# every broken kind, with the candidates that prove it.
PROTOCOL_COVERAGE = {
    "reusing the reference's freed output buffer": ["gelu_scale/empty_no_kernel", "gelu_scale/kernel_writes_nothing"],
    "writing only part of the output": ["gelu_scale/half_grid"],
    "caching results by shape, pointer or content": [
        "gelu_scale/cache_by_shape", "gelu_scale/cache_skip_launch", "softmax_rows/cache_module_dict",
        "layer_norm/global_kernel_cache",
    ],
    "writing the result into an input and returning it": ["gelu_scale/write_into_input", "add_mul/write_into_second_input"],
    "returning a tensor subclass": ["gelu_scale/tensor_subclass"],
    "returning a wider dtype": ["gelu_scale/float64_output"],
    "wrong shape / wrong container": ["gelu_scale/wrong_shape", "gelu_scale/returns_list"],
    "flipping TF32/precision flags": [
        "softmax_rows/tf32_flag", "softmax_rows/matmul_precision", "softmax_rows/matmul_precision_aliased",
        "softmax_rows/tf32_flag_at_import", "softmax_rows/matmul_precision_in_init",
    ],
    "work in a background thread": ["gelu_scale/background_thread", "gelu_scale/thread_via_torch_module"],
    "work on a side stream": ["softmax_rows/side_stream"],
    "try/except that falls back to torch": ["gelu_scale/try_except_fallback"],
    "a kernel that only copies while torch computes": [
        "gelu_scale/torch_computes_kernel_copies", "linear_relu/torch_matmul_kernel_relu",
        "add_mul/numpy_computes_kernel_copies", "add_mul/numpy_dlpack_compute", "add_mul/disable_dispatch_modes",
        "gelu_scale/grid_callable_computes", "gelu_scale/pre_run_hook_computes", "gelu_scale/kernel_body_calls_torch",
    ],
    "no kernel at all": ["gelu_scale/pure_torch"],
    "class ModelNew(Model)": ["softmax_rows/subclass_of_reference"],
    "digging tensors out of gc or caller frames": [
        "softmax_rows/gc_dig", "softmax_rows/caller_frame", "softmax_rows/inspect_frames",
        "gelu_scale/getattr_frame_walk_clears_op_count",
    ],
    "a kernel hard-coded to the shipped shapes": [
        "linear_relu/asserts_shipped_size_in_init",
        "softmax_rows/hardcoded_row_length", "layer_norm/hardcoded_dim", "linear_relu/asserts_shipped_shape",
    ],
    "a tolerance so loose that zeros or identity pass": [
        "add_mul/zeros_trivial_kernel", "gelu_scale/identity_copy", "softmax_rows/uniform_rows",
    ],
    "RNG tampering": ["softmax_rows/manual_seed", "softmax_rows/rng_generator_tamper"],
    "monkeypatching": [
        "linear_relu/monkeypatch_allclose", "linear_relu/monkeypatch_perf_counter",
        "add_mul/patch_torch_equal_hide_mutation", "add_mul/patch_checker_guards",
        "gelu_scale/torch_sys_modules_neuter_accountant", "gelu_scale/exec_via_code_module",
    ],
    "forging the checker's own records": [
        "add_mul/forge_event_log", "gelu_scale/finalizer_rewrites_saved_output", "gelu_scale/hmac_spy_forges_event_log",
    ],
    "broken: syntax error": ["gelu_scale/syntax_error"],
    "broken: kernel compile error": ["gelu_scale/compile_error_arange", "gelu_scale/compile_error_undefined_tl"],
    "broken: exception in forward": ["gelu_scale/forward_raises"],
    "broken: hang": ["gelu_scale/infinite_loop"],
    "broken: segfault": ["gelu_scale/wild_address"],
    "broken: weights not under the reference's names": ["linear_relu/misnamed_weights"],
    "broken: ignores parameters": ["layer_norm/ignores_affine"],
    "secrets never reach the sandbox": ["gelu_scale/reads_api_key"],
    "honest twins: single kernel, views, scratch": [
        "gelu_scale/honest_flat_views", "gelu_scale/honest_scratch_view", "add_mul/honest_2d_grid", "gelu_scale/honest_grid_callable",
        "softmax_rows/honest_online_loop", "layer_norm/honest_autotuned",
    ],
    "honest twins: multi-kernel with torch.empty scratch": [
        "gelu_scale/honest_two_kernels", "softmax_rows/honest_two_pass_scratch", "linear_relu/honest_two_kernels",
        "layer_norm/honest_stats_then_normalize",
    ],
    "honest twins: weights in parameters with the reference's names": [
        "linear_relu/honest_param_holder", "layer_norm/honest_stats_then_normalize",
    ],
    "honest twin: weights under other names, built like the reference (seeded fallback)": ["linear_relu/honest_renamed_linear"],
    # Issue 16, class 6: perturbation trials.
    "memoisation across fresh inputs (a cache keyed on sampled values)": [
        "gelu_scale/memo_corner_values", "softmax_rows/memo_in_kernel", "layer_norm/memo_row_checksum",
    ],
    "honest twin: scratch kept between calls": ["softmax_rows/honest_scratch_reuse"],
    # Class 7: precision rule (interpreter records what each dot and conversion computes in).
    "precision downgrades in an fp32 problem (TF32, fp16 operands, accumulators, reductions)": [
        "linear_relu/tf32_default_dot", "linear_relu/tf32_precision_constexpr", "softmax_rows/fp16_exp_sum",
        "linear_relu/fp16_operands", "linear_relu/fp16_accumulator",
    ],
    "honest twin: tf32x3 dots (fp32-level error)": ["linear_relu/honest_tf32x3"],
    # Class 8: stress trials.
    "numerically fragile kernels (no max shift, naive variance, eps in the wrong place)": [
        "softmax_rows/no_max_subtraction", "layer_norm/naive_variance", "logsumexp_rows/no_max_logsumexp",
        "l2_normalize_rows/eps_inside_sqrt",
    ],
    "honest twins: stable kernels": ["logsumexp_rows/honest_max_shift", "cumsum_rows/honest_one_row_per_program"],
    # Class 9: value variants, expressions and chained sizes, the parameter trial.
    "overfitting what the variants used to leave fixed": [
        "kb_square_matmul/hardwired_expression_size", "kb_channel_scale/hardwired_channels", "kb_channel_scale/hardwired_factor",
        "kb_channel_scale/hardwired_chained_plane", "kb_mean_dim/hardwired_axis",
    ],
    "weights snapshotted at construction or on the first call": [
        "linear_relu/snapshot_weights_in_init", "linear_relu/weights_cached_first_call", "layer_norm/affine_folded_at_init",
    ],
    "honest twins: every value read at run time": [
        "kb_square_matmul/honest_masked_tiles", "kb_channel_scale/honest_runtime_values", "kb_mean_dim/honest_any_axis",
    ],
    # Class 10: programs that run at once.
    "races the in-order interpreter hid": [
        "linear_relu/split_k_plain_accumulate", "cumsum_rows/carry_between_blocks", "gelu_scale/constants_from_program_zero",
    ],
    "honest twin: split-K with atomics": ["linear_relu/honest_split_k_atomic"],
    # Issue 19: a KernelBench file unchanged runs on the CPU at sizes reduced automatically.
    "KernelBench file at full size, reduced for the CPU": ["kb_square_matmul_full/honest_masked_tiles"],
    # Class 12: what the CPU interpreter lacked or got wrong.
    "honest kernels the stock interpreter rejected (libdevice, bf16 dots)": [
        "gelu_scale/honest_libdevice_erf", "gelu_scale/honest_libdevice_stub_tanh", "linear_gelu_bf16/honest_bf16_dot",
    ],
    "wrong kernels judged on their own error, not the interpreter's": [
        "gelu_scale/libdevice_wrong_formula", "linear_gelu_bf16/bf16_dot_no_bias",
    ],
    "what only a GPU can check: needs_gpu, never compile_error": [
        "gelu_scale/inline_asm_identity", "gelu_scale/libdevice_no_cpu_equivalent",
    ],
    # Issue 16's classes (docs/integrity.md, "Classes of cheats").
    "1. work hidden in launch machinery": [
        "gelu_scale/grid_callable_computes", "gelu_scale/pre_run_hook_computes", "add_mul/subclass_torch_function_computes",
        "softmax_rows/config_pre_hook_computes", "layer_norm/heuristics_computes", "gelu_scale/honest_launch_hooks",
    ],
    "2. host compute in Python": [
        "gelu_scale/apply_on_host", "softmax_rows/host_row_stats_float", "layer_norm/host_statistics_from_kernel",
        "gelu_scale/honest_scalar_from_parameter",
    ],
    "3. reaching forbidden things through allowed ones": [
        "gelu_scale/torch_sys_gc_clears_accounting", "add_mul/getattr_private_dispatch", "softmax_rows/exec_alias_runs_string",
        "gelu_scale/numpy_through_functional", "add_mul/honest_aliases_and_getattr",
    ],
    "4. tampering with the checker from inside the child": [
        "gelu_scale/rename_ops_via_alias", "add_mul/widen_allowed_ops_via_sys_modules",
        "softmax_rows/patch_guards_through_wrapper_globals", "layer_norm/honest_kernel_table",
    ],
    "5. behaving only when watched": [
        "gelu_scale/honest_only_under_interpreter_env", "add_mul/honest_only_in_checker_sandbox",
        "softmax_rows/honest_only_under_checker_wrappers", "gelu_scale/honest_only_when_poisoned",
        "add_mul/honest_only_when_fresh_memory_is_nan", "linear_relu/honest_only_in_inference_mode", "softmax_rows/honest_env_and_modes",
    ],
    "11. views and layout ops are not compute (arithmetic still is)": [
        "linear_relu/honest_weight_transpose_view", "softmax_rows/honest_layout_round_trip", "gelu_scale/honest_constant_pad",
        "linear_relu/transpose_then_torch_matmul", "gelu_scale/pad_with_computed_value", "add_mul/type_as_other_dtype_compute",
    ],
}

# What a rejection's reasons must say for the user to act on it (matched against any reason).
ACTIONABLE = {
    "unwritten_output": r"never written",
    "wrong_output": r"out of tolerance .*max abs err|elements differ|NaN/inf",
    "input_mutated": r"modified input\(s\) \[\d",
    "output_type": r"returned \S+, expected (exactly torch\.Tensor|a )",
    "dtype_mismatch": r"output dtype \w+, expected \w+",
    "shape_mismatch": r"output shape \[.*\], expected \[",
    "no_custom_kernel": r"launched none of the solution's own kernels",
    "torch_compute": r"computed with torch \(aten\.\w+|computed on the host|\.py:\d+: \S",
    "static_violation": r"\w+\.py:\d+: \S|started \d+ thread|rewritten after the checker saved it",
    "global_state": r"\w+\.py:\d+: \S|changed \S",
    "shape_overfit": r"correct at the shipped (sizes|values) but .*\{'",
    "compile_error": r"case \S+: .*(Error|error)",
    "runtime_error": r"case \S+: \w*(Error|Exception)",
    "timeout": r"did not finish within \d+",
    "crash": r"died of SIG\w+|ended .*without finishing",
    "precision_downgrade": r"kernel \w+ .*(TF32|fp16|bf16).*input_precision=\"ieee\"",
    "needs_gpu": r"needs a GPU to check: .*(--device cuda)",
}

# Extra facts a few candidates must show (checked on the same result).
EXTRA_CHECKS = {
    "gelu_scale/cache_by_shape": lambda r: r.trials[0]["ok"] and not r.trials[-1]["ok"] and r.trials[-1]["case"] == "shipped-1",
    "softmax_rows/cache_module_dict": lambda r: r.trials[0]["ok"] and r.trials[-1]["case"] == "shipped-1",
    "softmax_rows/hardcoded_row_length": lambda r: all(t["ok"] for t in r.trials if t["variant"] == "shipped"),
    "layer_norm/hardcoded_dim": lambda r: all(t["ok"] for t in r.trials if t["variant"] == "shipped"),
    "linear_relu/honest_param_holder": lambda r: r.weights_aligned is True,
    "layer_norm/honest_stats_then_normalize": lambda r: r.weights_aligned is True,
    "softmax_rows/rng_generator_tamper": lambda r: any("RNG" in x.message for x in r.reasons),
    # Each new trial names itself as what decided the verdict.
    "softmax_rows/memo_in_kernel": lambda r: r.reasons[0].check == "perturbation",
    "softmax_rows/no_max_subtraction": lambda r: r.reasons[0].check == "stress" and "trial stress-up" in r.reasons[0].message,
    "logsumexp_rows/no_max_logsumexp": lambda r: r.reasons[0].check == "stress",
    "layer_norm/naive_variance": lambda r: r.reasons[0].check == "stress" and "trial stress-offset" in r.reasons[0].message,
    "l2_normalize_rows/eps_inside_sqrt": lambda r: r.reasons[0].check == "stress" and "trial stress-down" in r.reasons[0].message,
    "linear_relu/snapshot_weights_in_init": lambda r: r.reasons[0].check == "parameters" and "trial params-0" in r.reasons[0].message,
    "linear_relu/weights_cached_first_call": lambda r: r.reasons[0].check == "parameters",
    "layer_norm/affine_folded_at_init": lambda r: r.reasons[0].check == "parameters",
    "kb_channel_scale/hardwired_channels": lambda r: "variant2" in r.reasons[0].message and "'channels': 4" in r.reasons[0].message,
    "kb_channel_scale/hardwired_factor": lambda r: "variant2" in r.reasons[0].message and "'factor': 0.375" in r.reasons[0].message,
    "kb_channel_scale/hardwired_chained_plane": lambda r: "'height = width': 9" in r.reasons[0].message,
    "kb_square_matmul/hardwired_expression_size": lambda r: "variant1" in r.reasons[0].message and "'N': 79" in r.reasons[0].message,
    "kb_mean_dim/hardwired_axis": lambda r: "'get_init_inputs()[0]': 2" in r.reasons[0].message,
    "linear_relu/tf32_default_dot": lambda r: "TF32" in r.reasons[0].message,
    "softmax_rows/fp16_exp_sum": lambda r: "converts fp32 values to fp16" in r.reasons[0].message,
    "linear_relu/honest_renamed_linear": lambda r: r.weights_aligned is False and any(
        "weights not aligned by name" in n and "proj.weight" in n and "seed 42" in n for n in r.notes),
    "linear_relu/misnamed_weights": lambda r: r.weights_aligned is False and any(x.check == "weights" for x in r.reasons),
    "kb_square_matmul_full/honest_masked_tiles": lambda r: r.sizes == {"N": 256} and "automatically" in r.notes[0]
    and "--sizes full" in r.notes[0] and next(v for v in r.variants if v["name"] == "variant1")["constants"] == {"N": 159},
    # A problem with nothing of a kind to vary says so beside the verdict.
    "softmax_rows/honest_scratch_reuse": lambda r: any("variant2 (values) not run: nothing to vary" in n for n in r.notes),
    "kb_channel_scale/honest_runtime_values": lambda r: {v["name"] for v in r.variants if "skipped" not in v} == {"shipped", "variant1", "variant2"},
    # The checked calls run in both grad modes, so the cheat's other branch is seen.
    "softmax_rows/honest_env_and_modes": lambda r: {t["grad_mode"] for t in r.trials if t["variant"] == "shipped"} == {"inference_mode", "no_grad"},
    "layer_norm/host_statistics_from_kernel": lambda r: any(x.check == "host_compute" for x in r.reasons),
    "gelu_scale/grid_callable_computes": lambda r: any("aten.gelu" in x.message for x in r.reasons),
}


# Like one run: the reference of each problem is computed once and reused by every candidate
# (tests/test_reference_cache.py proves a hit judges as a miss does).
SUITE_REFERENCES = ReferenceCache()


def check_options(c: Candidate) -> CheckOptions:
    timeout = TIMEOUT_S if "timeout" in c.expect else 60.0
    # The static sm_90 compile of accepted kernels (about 2 s each) is not an integrity guard; tests/test_resources.py covers it.
    return CheckOptions(
        **{"device": "cpu", "trials": 2, "variant_trials": 1, "timeout_s": timeout, "static_resources": False,
           "reference_cache": SUITE_REFERENCES, **dict(c.options)}
    )


@dataclass
class Outcome:
    result: CheckResult | None = None
    error: BaseException | None = None
    wall_s: float = 0.0


def _check(c: Candidate) -> Outcome:
    start = time.monotonic()
    try:
        return Outcome(result=verify_solution(c.problem, c.path, check_options(c)), wall_s=time.monotonic() - start)
    except Exception as exc:  # InputError is an expected outcome for `bad_input` candidates
        return Outcome(error=exc, wall_s=time.monotonic() - start)


@pytest.fixture(scope="module")
def parent_env(tmp_path_factory):
    """Secrets in the parent's environment for the whole module (none may reach the child).

    KERNELWRIGHT_HOME is set here too: the per-test fixture in conftest.py then only changes its
    value, so os.environ never changes size while a worker thread copies it for a child.
    """
    with pytest.MonkeyPatch.context() as mp:
        for k, v in SECRETS.items():
            mp.setenv(k, v)
        mp.setenv("KERNELWRIGHT_HOME", str(tmp_path_factory.mktemp("kw-home")))
        yield


@pytest.fixture(scope="module")
def outcomes(request, parent_env) -> dict[str, Future]:
    """Check every selected candidate (of any test below) once, in parallel; tests wait for their own."""
    selected = [
        item.callspec.params["candidate"]
        for item in request.session.items
        if hasattr(item, "callspec") and isinstance(item.callspec.params.get("candidate"), Candidate)
    ]
    selected = list({c.id: c for c in selected}.values())
    # Slow ones (hang) first, so they overlap with the rest.
    selected.sort(key=lambda c: "timeout" not in c.expect)
    pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="kw-integrity")
    futures = {c.id: pool.submit(_check, c) for c in selected}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def result_of(outcomes: dict[str, Future], c: Candidate) -> CheckResult:
    outcome = outcomes[c.id].result(timeout=600)
    if outcome.error is not None:
        raise outcome.error
    return outcome.result


def _param(c: Candidate):
    marks = [pytest.mark.xfail(reason=KNOWN_BUGS[c.id], strict=True)] if c.id in KNOWN_BUGS else []
    if "timeout" in c.expect:
        marks.append(pytest.mark.slow)
    return pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("candidate", [_param(c) for c in CANDIDATE_LIST])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    c = candidate
    outcome = outcomes[c.id].result(timeout=600)
    if c.expect == ("bad_input",):
        assert isinstance(outcome.error, InputError), f"{c.id}: expected InputError, got {outcome.error or outcome.result.verdict}"
        assert c.path.name in str(outcome.error)
        return
    if outcome.error is not None:
        raise outcome.error
    r = outcome.result
    reasons = "\n".join(f"  [{x.check}] {x.verdict}: {x.message.splitlines()[0] if x.message else ''}" for x in r.reasons)
    assert r.verdict.value in c.expect, f"{c.id} ({c.what}): expected {'|'.join(c.expect)}, got {r.verdict.value}\n{reasons}"
    if r.verdict is Verdict.ACCEPTED:
        assert r.reasons == []
        ran = [t["case"] for t in r.trials]
        assert ran[:2] == ["shipped-0", "shipped-1"] and {"perturb-elements", "perturb-row"} <= set(ran), r.trials
        assert all(t["ok"] for t in r.trials)
        assert r.max_abs_err is not None
        assert max(t["max_abs_err"] for t in r.trials if t["kind"] == "plain") < 1e-3  # stress trials scale the outputs
    else:
        assert r.reasons, f"{c.id}: rejected without a reason"
        assert r.reasons[0].verdict is r.verdict, f"{c.id}: the first reason names {r.reasons[0].verdict}, not {r.verdict}"
        assert all(x.message.strip() for x in r.reasons), f"{c.id}: a reason with an empty message\n{reasons}"
        pattern = ACTIONABLE[r.verdict.value]
        assert any(re.search(pattern, x.message, re.S) for x in r.reasons), (
            f"{c.id}: no reason says something actionable for {r.verdict.value} (/{pattern}/)\n{reasons}"
        )
    if "timeout" in c.expect:  # stopped by the check's own timeout, not by luck (no wall-clock margin: load decides those)
        assert f"within {TIMEOUT_S:g}s" in r.reasons[0].message, reasons
    extra = EXTRA_CHECKS.get(c.id)
    if extra is not None:
        assert extra(r), f"{c.id}: extra check failed\ntrials: {r.trials}\nweights_aligned: {r.weights_aligned}\n{reasons}"


# ---- the suite's own shape ----------------------------------------------------------------------


def test_candidate_files_are_well_formed():
    assert len(CANDIDATE_LIST) >= 40
    problems = {c.path.parent.name for c in CANDIDATE_LIST}
    assert len(problems) >= 4
    for c in CANDIDATE_LIST:
        assert c.problem.is_file(), f"{c.id}: no problem {c.problem}"
        for v in c.expect:
            assert v == "bad_input" or v in {x.value for x in Verdict}, f"{c.id}: unknown verdict {v}"
        assert len(c.expect) == 1 or c.id in KNOWN_BUGS, f"{c.id}: alternatives are only for known bugs"
        if c.expect != ("bad_input",):
            tree = ast.parse(c.path.read_text(), filename=str(c.path))
            assert any(isinstance(n, ast.ClassDef) and n.name == "ModelNew" for n in tree.body), c.id


def test_every_protocol_cheat_has_candidates():
    for cheat, ids in PROTOCOL_COVERAGE.items():
        assert ids, cheat
        for i in ids:
            assert i in BY_ID, f"{cheat}: no candidate {i}"
    covered = {i for ids in PROTOCOL_COVERAGE.values() for i in ids}
    assert not set(BY_ID) - covered, f"candidates that prove no listed rule: {sorted(set(BY_ID) - covered)}"
    # Cheats are spread over at least three problems.
    cheat_problems = {i.split("/")[0] for i in covered if BY_ID[i].expect != ("accepted",)}
    assert len(cheat_problems) >= 3


def _import_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def test_api_key_probe_would_fire_if_a_key_leaked(monkeypatch):
    """The reads_api_key candidate is a real probe: with a key in its environment, forward raises."""
    import torch

    module = _import_file(BY_ID["gelu_scale/reads_api_key"].path, "kw_probe_reads_api_key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    with pytest.raises(RuntimeError, match="OPENAI_API_KEY leaked"):
        module.ModelNew(1.7)(torch.randn(4, 4))


# ---- the shipped example solutions and the rules behind a few verdicts ------------------------

EXAMPLES = [
    Candidate(f"examples/{p.stem}", SOLUTIONS / f"{p.stem}.py", p, ("accepted",), "the shipped honest Triton solution")
    # The suite's other problems have no shipped solution: they are what `kernelwright bench` is for.
    for p in sorted(PROBLEMS.glob("*.py")) if (SOLUTIONS / f"{p.stem}.py").is_file()
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in EXAMPLES])
def test_example_solution_is_accepted(candidate: Candidate, outcomes):
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert {"shipped", "variant1"} <= {t["variant"] for t in r.trials}, "every example has a shape variant"
    assert {"perturb", "stress"} <= {t["kind"] for t in r.trials}, "and perturbation and stress trials"
    assert all(t["ok"] for t in r.trials) and len(r.trials) >= 8
    assert r.weights_aligned is True
    assert sum(r.launches.values()) >= 3


ZEROS_COMPAT = Candidate(
    "add_mul/zeros_trivial_kernel+compat",
    BY_ID["add_mul/zeros_trivial_kernel"].path,
    PROBLEMS / "add_mul.py",
    ("accepted",),
    "zeros under KernelBench's fixed atol",
    options=(("mode", "compat"),),
)


@pytest.mark.parametrize("candidate", [pytest.param(ZEROS_COMPAT, id=ZEROS_COMPAT.id)])
def test_strict_tolerance_is_what_rejects_zeros(candidate: Candidate, outcomes):
    """add_mul's outputs are below 1e-4: KernelBench's allclose(atol=1e-4) lets zeros through
    (compat mode reproduces that); the strict atol_eff = min(atol, 1e-3 * max|ref|) does not —
    the strict verdict on the same file is the parametrized test's wrong_output."""
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.tolerance["atol_eff"] == pytest.approx(1e-4)
    assert len(r.trials) == 5 and all(t["variant"] == "shipped" for t in r.trials)  # compat: 5 trials, no variants


COMPAT_SEEDED = [
    Candidate("linear_relu/honest_param_holder+compat", BY_ID["linear_relu/honest_param_holder"].path, PROBLEMS / "linear_relu.py",
              ("wrong_output",), "torch.empty weights under the reference's names, compat mode", options=(("mode", "compat"),)),
    Candidate("linear_relu/honest_renamed_linear+compat", BY_ID["linear_relu/honest_renamed_linear"].path, PROBLEMS / "linear_relu.py",
              ("accepted",), "nn.Linear under another name, compat mode", options=(("mode", "compat"),)),
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in COMPAT_SEEDED])
def test_compat_builds_both_models_under_one_seed_and_copies_nothing(candidate: Candidate, outcomes):
    """KernelBench's rule: Model and ModelNew built under the same seed, no weights copied. Weights
    that only a copy by name would fill (torch.empty) are wrong there, as in KernelBench's harness;
    the same construction under another name is right. Strict copies by name (both accepted)."""
    r = result_of(outcomes, candidate)
    assert r.verdict.value in candidate.expect, [x.message for x in r.reasons]
    if r.verdict is Verdict.WRONG_OUTPUT:
        assert any(x.check == "weights" and "compat mode" in x.message for x in r.reasons)


# Memo cheats keyed on values read out with .item(): host compute is what rejects them first (the
# parametrized test). With torch ops allowed, the perturbation trials must still catch the memo.
MEMO_WITH_HOST_READS = [
    Candidate(f"{cid}+allow_torch_ops", BY_ID[cid].path, BY_ID[cid].problem, ("wrong_output",), BY_ID[cid].what,
              options=(("allow_torch_ops", True),))
    for cid in ("gelu_scale/memo_corner_values", "layer_norm/memo_row_checksum")
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in MEMO_WITH_HOST_READS])
def test_a_memo_is_caught_by_the_perturbation_trials_even_with_torch_ops_allowed(candidate: Candidate, outcomes):
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.WRONG_OUTPUT, r.reasons
    assert r.reasons[0].check == "perturbation" and "trial perturb-" in r.reasons[0].message, r.reasons


TF32_OPT_IN = Candidate(
    "linear_relu/tf32_default_dot+precision_tf32",
    BY_ID["linear_relu/tf32_default_dot"].path,
    PROBLEMS / "linear_relu.py",
    ("accepted",),
    "a TF32 dot with the user's opt-in",
    options=(("precision", "tf32"),),
)


@pytest.mark.parametrize("candidate", [pytest.param(TF32_OPT_IN, id=TF32_OPT_IN.id)])
def test_tf32_is_accepted_only_when_the_user_opts_in_and_then_reported(candidate: Candidate, outcomes):
    """The same file is precision_downgrade by default (the parametrized test); with --precision
    tf32 it is accepted, judged with the 16-bit tolerance, and the opt-in is in the result."""
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert any("--precision tf32" in n for n in r.notes)
    assert r.tolerance["atol"] == pytest.approx(1e-2) and "--precision tf32" in r.tolerance["source"]


# candidate id -> the verdict the runtime guards give when the static scan is off
RUNTIME_BACKUPS = {
    "softmax_rows/matmul_precision": "global_state",
    "softmax_rows/subclass_of_reference": "no_custom_kernel",
    # The signed event log: lines written by the candidate's process are detected.
    "add_mul/forge_event_log": "static_violation",
    # The worker captured torch.equal before the candidate could replace it.
    "add_mul/patch_torch_equal_hide_mutation": "input_mutated",
    # Caught statically now; with the scan off, the load-time and call-time snapshots catch them.
    "softmax_rows/tf32_flag_at_import": "global_state",
    "softmax_rows/matmul_precision_aliased": "global_state",
    # ModelNew's constructor is bracketed by global-state snapshots too.
    "softmax_rows/matmul_precision_in_init": "global_state",
    # The runtime audit refuses gc's object lists and exec of a string from the solution.
    "gelu_scale/torch_sys_gc_clears_accounting": "static_violation",
    "softmax_rows/exec_alias_runs_string": "static_violation",
    # Host reads of the forward's data, Tensor.apply_, and allowed ops known by identity, not name.
    "gelu_scale/numpy_through_functional": "torch_compute",
    "gelu_scale/apply_on_host": "torch_compute",
    "gelu_scale/rename_ops_via_alias": "torch_compute",
    # Threads are counted at Thread.start, whatever module the class was reached through.
    "gelu_scale/thread_via_torch_module": "static_violation",
    # The checker's modules are not in sys.modules while the candidate runs.
    "add_mul/widen_allowed_ops_via_sys_modules": "torch_compute",
}
NO_SCAN = [
    Candidate(f"{cid}+no_static_scan", BY_ID[cid].path, BY_ID[cid].problem, (verdict,), BY_ID[cid].what, (("static_scan", False),))
    for cid, verdict in sorted(RUNTIME_BACKUPS.items())
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in NO_SCAN])
def test_runtime_guards_back_up_the_static_scan(candidate: Candidate, outcomes):
    r = result_of(outcomes, candidate)
    assert r.verdict.value in candidate.expect, [x.message for x in r.reasons]
    assert not any(x.check == "static_scan" for x in r.reasons)
    if candidate.id.startswith("gelu_scale/thread_via_torch_module"):
        assert any(x.check == "threads" for x in r.reasons), r.reasons
