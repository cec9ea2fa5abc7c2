"""Running the integrity suite's checks and judging their results (shared by tests/test_integrity_*.py).

All checks run on the CPU (Triton interpreter) with 2 shipped trials and 1 shape-variant trial:
enough for the caching cheats (two trials with different inputs in one process) and for the
shape-overfit ones (the variant), and cheap enough for CI. The candidates a test file selects are
checked in parallel (KW_TEST_JOBS, default 2) by its module-scoped `outcomes` fixture; each test
then reads its own result. Every file shares one reference cache, as one run would.

A test file binds the fixtures as its own module attributes (`outcomes, parent_env =
integrity_checks.outcomes, integrity_checks.parent_env`; an import would read as unused to ruff),
so each file gets its own pool over its own candidates and its own parent environment.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from integrity_candidates import Candidate

from kernelwright.tools.check.reference_cache import ReferenceCache
from kernelwright.tools.check.verdicts import CheckResult, Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.problem import InputError

# Secrets set in the parent for every check: none may reach the sandboxed child.
SECRETS = {"OPENAI_API_KEY": "sk-test-secret", "HF_TOKEN": "hf_test_secret", "KERNELWRIGHT_API_KEY": "kw-test-secret"}
# For the `timeout` candidates (a forward that spins: every second of it is a core of CI time);
# 4 s as the CLI's hang test; the reference is not held to it (REFERENCE_MIN_TIMEOUT_S). Others get 60 s.
TIMEOUT_S = 4.0
JOBS = max(1, int(os.environ.get("KW_TEST_JOBS", "2")))

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
    "static_violation": r"\w+\.py:\d+: \S|started \d+ thread|rewritten after the checker saved it|carries instance attributes|shares memory with the output|of a Tensor subclass \(\w+\): .*keep plain tensors",
    "global_state": r"\w+\.py:\d+: \S|changed \S",
    "shape_overfit": r"correct at the shipped (sizes|values) but .*\{'",
    "compile_error": r"case \S+: .*(Error|error)|kernel \w+ does not compile for a GPU \(sm_90\): \S",
    "runtime_error": r"case \S+: \w*(Error|Exception)",
    "timeout": r"did not finish within \d+",
    "crash": r"died of SIG\w+|ended .*without finishing",
    "precision_downgrade": r"kernel \w+ .*(TF32|fp16|bf16).*input_precision=\"ieee\"",
    "needs_gpu": r"needs a GPU to check: .*(--device cuda)|could not be compiled for a GPU here: .*(--device cuda)",
}

# Like one run: the reference of each problem is computed once and reused by every candidate
# (tests/test_reference_cache.py proves a hit judges as a miss does).
SUITE_REFERENCES = ReferenceCache()


def check_options(c: Candidate) -> CheckOptions:
    timeout = TIMEOUT_S if "timeout" in c.expect else 60.0
    # The static sm_90 compile is a guard of CPU checks (an accepted kernel must compile for a GPU):
    # on for every candidate that gets that far, so honest twins prove it rejects none of them.
    gpu_compile = c.expect[0] in ("accepted", "compile_error", "needs_gpu")
    return CheckOptions(
        **{"device": "cpu", "trials": 2, "variant_trials": 1, "timeout_s": timeout, "static_resources": gpu_compile,
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

    KERNELWRIGHT_HOME is set here too, so the per-test fixture in conftest.py only changes its value.
    pytest itself still sets and deletes PYTEST_CURRENT_TEST while worker threads read the
    environment: the checker copies it with `environ_snapshot` (tests/test_environ_snapshot.py).
    """
    with pytest.MonkeyPatch.context() as mp:
        for k, v in SECRETS.items():
            mp.setenv(k, v)
        mp.setenv("KERNELWRIGHT_HOME", str(tmp_path_factory.mktemp("kw-home")))
        yield


@pytest.fixture(scope="module")
def outcomes(request, parent_env) -> dict[str, Future]:
    """Check every candidate selected in this test file once, in parallel; tests wait for their own."""
    selected = [
        item.callspec.params["candidate"]
        for item in request.session.items
        if getattr(item, "module", None) is request.module
        and hasattr(item, "callspec") and isinstance(item.callspec.params.get("candidate"), Candidate)
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


def assert_expected_verdict(c: Candidate, outcomes: dict[str, Future], extra: Callable[[CheckResult], bool] | None = None) -> None:
    """The verdict a candidate file names, with a reason the user can act on; accepted ones ran
    every trial right. `extra`: a further fact its result must show (its file's EXTRA_CHECKS)."""
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
        # Close on the plain trials (stress trials scale the outputs): ten times the protocol's atol,
        # 1e-3 for fp32 problems; a bf16 output's own rounding is about 4e-3 at magnitude 1.
        atol = (r.tolerance or {}).get("atol", 1e-4)
        assert max(t["max_abs_err"] for t in r.trials if t["kind"] == "plain") < 10 * atol
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
    if extra is not None:
        assert extra(r), f"{c.id}: extra check failed\ntrials: {r.trials}\nweights_aligned: {r.weights_aligned}\n{reasons}"
