"""The expert policy's roles and their wiring: registry, planner/coder/debugger/analyst on run
states built from plain dicts, and `kernelwright run` end to end with no model configured."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from kernelwright.agents.context import Budgets
from kernelwright.agents.expert import roles
from kernelwright.agents.expert.configs import dedupe
from kernelwright.agents.expert.solution import read_header
from kernelwright.agents.records import Attempt
from kernelwright.agents.records.run_state import validated_update
from kernelwright.agents.registry import builtin_roles, require_runnable
from kernelwright.graphs.nodes import problem_summary
from kernelwright.memory.store import MemoryStore
from kernelwright.tools.check.verify import CheckOptions

from paths import PROBLEMS, ROOT

DATA = ROOT / "tests" / "data" / "expert"


def ctx(device="cpu", candidates=1, memory=None):
    return SimpleNamespace(check=CheckOptions(device=device), candidates=candidates, lessons=None, memory=memory,
                           budgets=Budgets(max_debug_tries=2))


def state(problem, iteration=1, **extra):
    return validated_update({"problem": problem_summary(problem), "iteration": iteration, **extra})


def plan_text(st, context) -> str:
    return roles.planner(st, context)["plan"].text


def test_registry_wires_the_expert_roles():
    specs = builtin_roles("expert")
    assert {n: s.fn for n, s in specs.items()} == {"planner": roles.planner, "coder": roles.coder,
                                                  "debugger": roles.debugger, "analyst": roles.analyst}
    assert {s.source for s in specs.values()} == {"built-in (expert)"}
    require_runnable(specs)


def test_planner_names_family_and_config():
    plan = plan_text(state(PROBLEMS / "softmax_rows.py"), ctx("cuda"))
    assert plan.startswith("STRATEGY: last-dim row kernel: one program per row of 300") and "NEXT:" in plan and "EXPECTED:" in plan
    assert "CANDIDATE 0: space 'first': BLOCK=512 num_warps=4;" in plan  # next_pow2(300), autotuned on a GPU
    cpu = plan_text(state(PROBLEMS / "linear_relu.py"), ctx())
    assert cpu.startswith("STRATEGY: matmul (nn.Linear) with its elementwise epilogue fused") and "fp32 products" in cpu
    assert "output [32, 80], K=96" in cpu  # traced at the problem's CPU_SIZES on the CPU
    refused = roles.planner(state(PROBLEMS / "embedding_layernorm.py"), ctx())["plan"]
    assert refused.text.startswith("STRATEGY: none") and "nn.Embedding" in refused.text
    assert refused.next_step.kind == "unsupported"


@pytest.fixture
def seeded(tmp_path):
    with MemoryStore(tmp_path / "memory.db") as store:
        yield store


def test_plan_names_the_lesson_that_chose_the_configs_and_the_candidate_carries_it(seeded):
    st = state(PROBLEMS / "linear_gelu_bf16.py")  # bf16, M = N = K = 4096 at GPU sizes
    plan = plan_text(st, ctx("cuda", memory=seeded))
    lesson = seeded.get("seed-expert-matmul-sm90-bf16")
    assert f"LESSONS APPLIED: [{lesson.id}] {lesson.title} -> BLOCK_M=128 BLOCK_N=256 BLOCK_K=64" in plan
    [cand] = roles.coder(st, ctx("cuda", memory=seeded))["pending"]
    assert cand.applied_lessons == (lesson.id,)
    family, configs = read_header(cand.source)
    assert family == "matmul" and len(configs) > 1 and "@triton.autotune(" in cand.source
    assert cand.kernel.family == "matmul" and len(cand.kernel.configs) == len(configs)  # the record states what the file says
    assert (configs[0].block_m, configs[0].block_n, configs[0].block_k, configs[0].num_stages) == (128, 256, 64, 3)
    # A failed idea in memory is left out of the space; without lessons, nothing is claimed.
    seeded.add_lesson("128x256 tiles were slower here", "measured slower", kind="failed-idea", arch="sm_90", op_family="matmul",
                      dtype="bf16", shape_regime="M, N, K >= 1024", change="BLOCK_M=128 BLOCK_N=256 BLOCK_K=64 num_warps=8 num_stages=3")
    [again] = roles.coder(st, ctx("cuda", memory=seeded))["pending"]
    assert all((c.block_m, c.block_n) != (128, 256) or c.num_stages != 3 for c in read_header(again.source)[1])
    assert "LESSONS AVOIDED (failed ideas): [" in plan_text(st, ctx("cuda", memory=seeded))
    [plain] = roles.coder(state(PROBLEMS / "softmax_rows.py"), ctx("cuda", memory=seeded))["pending"]
    assert plain.applied_lessons == ()  # rows of 300: no lesson's regime holds
    [cpu] = roles.coder(st, ctx("cpu", memory=seeded))["pending"]
    assert cpu.applied_lessons == () and "@triton.autotune(" not in cpu.source  # GPU lessons stay off the interpreter


def test_a_space_measured_faster_is_learned_and_applied_by_a_later_run_of_the_same_problem(seeded):
    from kernelwright.graphs.learning import learn_from_check

    # Round 2 of a GPU run tried the 'compute' space and beat round 1 beyond the noise floor: the
    # memory files the plan's next step (the configs) as a lesson; the next run applies it.
    first = roles.coder(state(PROBLEMS / "linear_gelu_bf16.py"), ctx("cuda"))["pending"][0]
    profile = {"timing": {"candidate": {"median_ms": 0.40}}, "roofline": {"t_sol_ms": 0.18, "bound": "compute"}}
    st = state(PROBLEMS / "linear_gelu_bf16.py", 2, attempts=[_accepted(first, median=0.40)], profile=profile,
               best=_accepted(first, median=0.40), run_id="run-1")
    plan = roles.planner(st, ctx("cuda"))["plan"]
    assert plan.next_step.kind == "try_configs" and plan.next_step.space == "compute" and plan.next_step.configs
    [second] = roles.coder(st, ctx("cuda"))["pending"]
    timed = Attempt.model_validate({**_accepted(second, "r2-c0", 0.30, 2), "check": {"timing": {"noise_floor": 0.02}, "arch": "sm_90"}})
    [lesson_id] = learn_from_check(seeded, {**st, "plan": plan}, [timed])
    learned = seeded.get(lesson_id)
    assert learned.kind == "optimization" and learned.arch == "sm_90" and learned.op_family == "matmul"
    assert learned.change == plan.next_step.change
    again = plan_text(state(PROBLEMS / "linear_gelu_bf16.py"), ctx("cuda", memory=seeded))
    assert f"[{lesson_id}] {learned.title}" in again
    [cand] = roles.coder(state(PROBLEMS / "linear_gelu_bf16.py"), ctx("cuda", memory=seeded))["pending"]
    assert lesson_id in cand.applied_lessons and set(read_header(second.source)[1]) <= set(read_header(cand.source)[1])
    # It was learned on this problem and states no shape regime: another bf16 matmul does not apply it.
    other = roles.coder(state(PROBLEMS / "linear_residual_bf16.py"), ctx("cuda", memory=seeded))["pending"][0]
    assert lesson_id not in other.applied_lessons


def _accepted(cand, cid="r1-c0", median=None, iteration=1):
    """The attempt record of an accepted check of `cand` (a Candidate the coder made)."""
    return {"candidate_id": cid, "parent_id": None, "iteration": iteration, "origin": "code", "debug_tries": 0, "source_sha": "0",
            "accepted": True, "verdict": "accepted", "reasons": [], "source": cand.source, "median_ms": median,
            "kernel": cand.kernel, "applied_lessons": cand.applied_lessons}


def test_later_rounds_pick_the_space_from_the_profile():
    st = state(PROBLEMS / "linear_gelu_bf16.py")
    [first] = roles.coder(st, ctx("cuda"))["pending"]
    tried = set(read_header(first.source)[1])
    profile = {"timing": {"candidate": {"median_ms": 0.40}}, "roofline": {"t_sol_ms": 0.18, "bound": "compute"}}
    later = state(PROBLEMS / "linear_gelu_bf16.py", 2, attempts=[_accepted(first, median=0.40)], profile=profile)
    plan = plan_text(later, ctx("cuda"))
    assert "CANDIDATE 0: space 'compute'" in plan and "compute-bound at 45% of speed-of-light" in plan
    [second] = roles.coder(later, ctx("cuda"))["pending"]
    assert second.id == "r2-c0" and not tried & set(read_header(second.source)[1])  # nothing measured twice
    memory_bound = {"timing": {"candidate": {"median_ms": 0.05}}, "roofline": {"t_sol_ms": 0.02, "bound": "memory"}}
    ew = state(PROBLEMS / "gelu_scale.py", 2, profile=memory_bound,
               attempts=[_accepted(roles.coder(state(PROBLEMS / "gelu_scale.py"), ctx("cuda"))["pending"][0])])
    assert "space 'memory'" in plan_text(ew, ctx("cuda"))
    # Spills reported by the profile's diagnosis send the next round to smaller neighbours; "0 B" does not.
    for spilled, space in (("480 B spilled", "neighbours"), ("0 B spilled", "compute")):
        diag = {**profile, "diagnosis": f"compute-bound; sm_90 kw_matmul_kernel: 255 regs/thread, {spilled}, 147456 B shared"}
        st2 = {**later, **validated_update({"profile": diag})}
        assert f"CANDIDATE 0: space '{space}'" in plan_text(st2, ctx("cuda"))
    # On the CPU a later round rotates to the next single config.
    one = roles.coder(state(PROBLEMS / "softmax_rows.py", 1), ctx())["pending"]
    two = roles.coder(state(PROBLEMS / "softmax_rows.py", 2), ctx())["pending"]
    assert [c.id for c in one] == ["r1-c0"] and [c.id for c in two] == ["r2-c0"]
    assert read_header(one[0].source)[1] != read_header(two[0].source)[1]


def _failed(cand, message, verdict="compile_error"):
    """The attempt record of a rejected check of `cand`: the debugger reads the kernel's family and
    configs from it (`kernel`), not from the file."""
    return {"candidate_id": "r1-c0", "parent_id": None, "iteration": 1, "origin": "code", "debug_tries": 0, "source_sha": "0",
            "accepted": False, "verdict": verdict, "reasons": [{"check": "compile", "message": message}], "source": cand.source,
            "kernel": cand.kernel, "applied_lessons": cand.applied_lessons}


def debug(st, attempt, context):
    return roles.debugger({**st, **validated_update({"attempts": [attempt]})}, context)


def test_debugger_repairs_known_failures_only(seeded):
    st = state(PROBLEMS / "linear_gelu_bf16.py")
    cand = roles.coder(st, ctx("cuda", memory=seeded))["pending"][0]
    before = read_header(cand.source)[1]
    smem = "out of resources: shared memory, Required: 262144, Hardware limit: 232448"
    [fix] = debug(st, _failed(cand, smem), ctx("cuda"))["pending"]
    assert fix.id == "r1-c0-d1" and fix.parent_id == "r1-c0" and fix.origin == "debug"
    assert fix.applied_lessons == cand.applied_lessons and "fewer stages" in fix.repair
    after = read_header(fix.source)[1]
    assert fix.kernel.family == "matmul" and len(fix.kernel.configs) == len(after)
    # Each config one pipeline stage down; one that is already in the failed candidate, or that
    # another config also became, is not tried again.
    fewer = dedupe([dataclasses.replace(c, num_stages=c.num_stages - 1) for c in before])
    assert after == [c for c in fewer if c not in before] and len(after) >= len(before) - 2
    fp32 = roles.coder(state(PROBLEMS / "linear_relu.py"), ctx("cuda"))["pending"][0]  # 3xTF32 configs
    [ieee] = debug(st, _failed(fp32, "max abs err 3e-3 > tol", "wrong_output"), ctx("cuda"))["pending"]
    assert {c.precision for c in read_header(ieee.source)[1]} == {"ieee"}
    [dtype] = debug(st, _failed(cand, "output dtype bfloat16, expected float32", "dtype_mismatch"), ctx("cuda"))["pending"]
    assert "dtype=torch.float32" in dtype.source
    none = debug(st, _failed(cand, "max abs err 3.2 > atol", "wrong_output"), ctx("cuda"))
    assert none == {"pending": []}  # bf16 tiles with a wrong result: no known repair
    odd = "correct at the shipped sizes but not at {'tokens': 2559}: max abs err 2.4 > tol"
    [plain] = debug(st, _failed(cand, odd, "shape_overfit"), ctx("cuda"))["pending"]
    assert {(c.epilogue_split, c.masks) for c in read_header(plain.source)[1]} == {(1, "all")}
    assert "EPILOGUE_SPLIT=2" not in plain.source
    # A candidate whose record states no kernel (an LLM's or a plugin's) has nothing known to repair,
    # whatever its file's header says.
    unknown = {**_failed(cand, smem), "kernel": None}
    assert debug(st, unknown, ctx("cuda")) == {"pending": []}  # no split epilogue left in the repaired candidate


def test_analyst_reads_the_profile():
    profile = {"timing": {"candidate": {"median_ms": 0.02}}, "roofline": {"t_sol_ms": 0.01, "bound": "memory"}, "resources": {},
               "diagnosis": "DRAM throughput 48% of peak"}
    best = {"candidate_id": "r1-c0", "iteration": 1, "source_sha": "0", "source": "", "verdict": "accepted", "accepted": True,
            "speedup": {"eager": 1.8}}
    text = roles.analyst(validated_update({"profile": profile, "best": best}), ctx("cuda"))["analysis"]
    assert text.startswith("BOTTLENECK: memory-bound, below speed-of-light")
    assert "50% of SoL" in text and "eager 1.80x" in text and "diagnosis: DRAM throughput 48%" in text
    assert "NEXT MOVES: next space 'memory'" in text
    cpu = roles.analyst(validated_update({"profile": {"timing": None}}), ctx())["analysis"]
    assert "no timing" in cpu


def _run(problem, home):
    """`kernelwright run` with no model, nothing configured. (A run of a problem the expert has no
    kernel for, through the CLI: tests/test_bad_input.py's honest-unsupported-op.)"""
    env = {k: v for k, v in os.environ.items() if k not in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY")}
    args = ["--home", str(home), "--max-iters", "1"]
    return subprocess.run([sys.executable, "-m", "kernelwright", "run", str(problem), "--device", "cpu", "--json", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_run_with_no_model_is_accepted():
    # As a user runs it: the CLI, nothing configured, no model in the environment.
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        proc = _run(PROBLEMS / "gelu_scale.py", Path(tmp) / "home")
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        assert summary["accepted"] is True and summary["status"] == "finished"
        solution = open(summary["solution_path"]).read()
        assert "@triton.jit" in solution and "kernelwright expert policy" in solution


@pytest.mark.parametrize("name", ["add_mul", "layer_norm", "rms_norm_long", "linear_relu", "bmm_scale", "linear_gelu_bf16"])
def test_each_family_is_accepted_with_no_model(tmp_path, name, monkeypatch):
    # Each family of examples/problems: two inputs, a non-power-of-two row with weights under the
    # reference's names, a row longer than one block; matmuls with a bias and activation (fp32), a
    # batched product with a transposed input and a scale, a bf16 Linear with gelu, scaling and a
    # residual add. In this process (the CLI's own path is the test above): a CLI process starts its
    # own sandbox zygotes, about 4 s of CPU a run on the 2-core CI machine.
    from kernelwright.graphs.runner import RunRequest, execute

    for key in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "lean.yaml"
    config.write_text("check: {static_resources: false, device: cpu}\nprofile: {tier: off}\nbudgets: {max_iters: 1}\n")
    summary = execute(RunRequest(problem=str(PROBLEMS / f"{name}.py"), home=tmp_path / "home", config_path=str(config)))
    assert summary.accepted is True and summary.status == "finished"
    solution = open(summary.solution_path).read()
    assert "@triton.jit" in solution and "kernelwright expert policy" in solution
