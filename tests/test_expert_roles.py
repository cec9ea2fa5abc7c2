"""The expert policy's roles and their wiring: registry, planner/coder/debugger/analyst on plain
state dicts, and `kernelwright run` end to end with no model configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from kernelwright.agents.expert import roles
from kernelwright.agents.registry import builtin_roles, require_runnable
from kernelwright.graphs.context import Budgets
from kernelwright.graphs.nodes import problem_summary

from paths import PROBLEMS, ROOT

DATA = ROOT / "tests" / "data" / "expert"


def ctx(device="cpu", candidates=1):
    return SimpleNamespace(check={"device": device}, candidates=candidates, lessons=None, budgets=Budgets(max_debug_tries=2))


def state(problem, iteration=1, **extra):
    return {"problem": problem_summary(problem), "iteration": iteration, **extra}


def test_registry_wires_the_expert_roles():
    specs = builtin_roles("expert")
    assert {n: s.fn for n, s in specs.items()} == {"planner": roles.planner, "coder": roles.coder,
                                                  "debugger": roles.debugger, "analyst": roles.analyst}
    assert {s.source for s in specs.values()} == {"built-in (expert)"}
    require_runnable(specs)


def test_planner_names_family_and_config():
    plan = roles.planner(state(PROBLEMS / "softmax_rows.py"), ctx("cuda"))["plan"]
    assert plan.startswith("STRATEGY: last-dim row kernel") and "NEXT:" in plan and "EXPECTED:" in plan
    assert "= 512 for n_cols=300" in plan
    refused = roles.planner(state(DATA / "conv_relu.py"), ctx())["plan"]
    assert refused.startswith("STRATEGY: none") and "aten.convolution" in refused


def test_coder_one_candidate_per_round_and_another_config_later():
    first = roles.coder(state(PROBLEMS / "softmax_rows.py", 1), ctx("cuda"))["pending"]
    second = roles.coder(state(PROBLEMS / "softmax_rows.py", 2), ctx("cuda"))["pending"]
    assert [c["id"] for c in first] == ["r1-c0"] and [c["id"] for c in second] == ["r2-c0"]
    assert first[0]["origin"] == "code" and first[0]["parent_id"] is None and first[0]["debug_tries"] == 0
    assert first[0]["source"] != second[0]["source"]


def _failed(source, message):
    return {"candidate_id": "r1-c0", "parent_id": None, "iteration": 1, "origin": "code", "debug_tries": 0,
            "accepted": False, "verdict": "compile_error", "reasons": [{"check": "compile", "message": message}], "source": source}


def test_debugger_lowers_the_block_on_known_failures_only():
    st = state(PROBLEMS / "gelu_scale.py")
    src = roles.coder(st, ctx("cuda"))["pending"][0]["source"]
    assert "BLOCK=1024 num_warps=4" in src
    fix = roles.debugger({**st, "attempts": [_failed(src, "out of resources: shared memory, Required: 300000")]}, ctx("cuda"))["pending"]
    assert len(fix) == 1 and fix[0]["id"] == "r1-c0-d1" and fix[0]["parent_id"] == "r1-c0" and fix[0]["origin"] == "debug"
    assert "BLOCK=512 num_warps=4" in fix[0]["source"]
    none = roles.debugger({**st, "attempts": [_failed(src, "max abs err 3.2 > atol")]}, ctx("cuda"))
    assert none == {"pending": []}


def test_analyst_reads_the_profile():
    profile = {"timing": {"candidate": {"median_ms": 0.02}}, "roofline": {"t_sol_ms": 0.01, "bound": "memory"}, "resources": {}}
    text = roles.analyst({"profile": profile, "best": {"speedup": {"eager": 1.8}}}, ctx("cuda"))["analysis"]
    assert text.startswith("BOTTLENECK: memory-bound, below speed-of-light")
    assert "50% of SoL" in text and "eager 1.80x" in text and "NEXT MOVES:" in text
    cpu = roles.analyst({"profile": {"timing": None}}, ctx())["analysis"]
    assert "no timing" in cpu


def _run(problem, home):
    env = {k: v for k, v in os.environ.items() if k not in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY")}
    return subprocess.run([sys.executable, "-m", "kernelwright", "run", str(problem), "--device", "cpu", "--json",
                           "--home", str(home), "--max-iters", "1"], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("name", ["gelu_scale", "add_mul", "softmax_rows", "layer_norm", "rms_norm_long"])
def test_run_with_no_model_is_accepted(tmp_path, name):
    # Each family of examples/problems: scalar attribute, two inputs, a non-power-of-two row,
    # weights under the reference's names, a row longer than one block.
    proc = _run(PROBLEMS / f"{name}.py", tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["accepted"] is True and summary["status"] == "finished"
    solution = open(summary["solution_path"]).read()
    assert "@triton.jit" in solution and "kernelwright expert policy" in solution


def test_run_on_an_unsupported_problem_fails_and_names_the_ops(tmp_path):
    proc = _run(DATA / "conv_relu.py", tmp_path / "home")
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["status"] == "failed" and summary["accepted"] is False and summary["solution_path"] is None
    assert "expert policy: no kernel for aten.convolution (nn.Conv2d)" in summary["error"]
