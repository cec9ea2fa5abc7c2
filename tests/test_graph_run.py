"""The agent graph end to end on the CPU: real LangGraph + SqliteSaver, real checks (Triton
interpreter), roles plugged in from a module outside the package (tests/kw_test_roles.py)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from kernelwright.cli import main
from kernelwright.graphs.runner import RunRequest, execute
from kernelwright.graphs.traces.store import TraceStore

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

TESTS = Path(__file__).resolve().parent
HONEST = SOLUTIONS / "gelu_scale.py"
BROKEN = CANDIDATES / "gelu_scale" / "compile_error_undefined_tl.py"
WRONG = CANDIDATES / "gelu_scale" / "identity_copy.py"


def write_config(tmp_path, sources, fix=HONEST, budgets=None, extra_roles=None, analyst=None, candidates=1) -> Path:
    markers = str(tmp_path / "markers")
    roles = {
        "planner": {"impl": "kw_test_roles:planner", "options": {"marker_dir": markers}},
        "coder": {"impl": "kw_test_roles:coder", "options": {"marker_dir": markers, "sources": [str(s) for s in sources]}},
        "debugger": {"impl": "kw_test_roles:debugger", "options": {"marker_dir": markers, "fix": str(fix)}},
        "analyst": {"impl": "kw_test_roles:analyst", "options": {"marker_dir": markers, **(analyst or {})}},
    }
    roles.update(extra_roles or {})
    config = {
        "candidates": candidates,
        "roles": roles,
        "budgets": {"max_iters": 1, "max_debug_tries": 2, "patience": 5, **(budgets or {})},
        # No sm_90 compile in the check and no profiling: these tests are about the graph (both are
        # tested on their own; together they cost ~3 s of each accepted run, and CI time is tight).
        "check": {"device": "cpu", "trials": 2, "timeout_s": 120, "static_resources": False},
        "profile": {"tier": "off"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def markers(tmp_path, role: str) -> int:
    return len(list((tmp_path / "markers").glob(f"{role}-*")))


def run(tmp_path, config: Path):
    home = tmp_path / "home"
    summary = execute(RunRequest(problem=str(PROBLEMS / "gelu_scale.py"), home=home, config_path=str(config)))
    return summary, TraceStore(home / "traces.db").steps(summary.run_id)


def test_success_writes_the_solution_report_and_trace(tmp_path):
    summary, steps = run(tmp_path, write_config(tmp_path, [HONEST]))
    assert summary.status == "finished" and summary.accepted
    assert Path(summary.solution_path).read_text() == HONEST.read_text()
    report = json.loads((Path(summary.run_dir) / "report.json").read_text())
    assert report["accepted"] and report["best"]["verdict"] == "accepted"
    assert [s.node for s in steps] == ["plan", "code", "check", "profile", "analyze", "finish"]
    assert [s.role for s in steps][:2] == ["planner", "coder"] and steps[2].role is None
    assert all(s.duration_s >= 0 for s in steps)
    assert steps[2].verdicts == ["accepted"]


def test_k_candidates_are_checked_in_one_step_and_the_first_accepted_stays_best(tmp_path):
    summary, steps = run(tmp_path, write_config(tmp_path, [HONEST], candidates=3))
    assert summary.accepted
    check = [s for s in steps if s.node == "check"]
    assert len(check) == 1 and check[0].verdicts == ["accepted"] * 3
    assert summary.best.candidate_id == "r1-c0"  # no timing on the CPU: equals never replace the best


def test_a_class_role_is_built_with_its_options():
    from kernelwright.agents.registry import resolve_roles

    roles, added = resolve_roles("llm", {"auditor": {"impl": "kw_test_roles:Counter", "after": "analyze", "options": {"label": "x"}}})
    assert added[0].fn.label == "x" and added[0].source == "config: kw_test_roles:Counter"


def test_a_compile_error_is_fixed_by_the_debugger(tmp_path):
    summary, steps = run(tmp_path, write_config(tmp_path, [BROKEN]))
    assert summary.accepted
    verdicts = [v for s in steps for v in s.verdicts]
    assert verdicts == ["compile_error", "accepted"]
    assert [s.node for s in steps][:5] == ["plan", "code", "check", "debug", "check"]
    assert summary.best.candidate_id.endswith("-d1")


def test_a_repeated_identical_failure_stops_the_debug_loop(tmp_path):
    summary, steps = run(tmp_path, write_config(tmp_path, [WRONG], fix=WRONG, budgets={"max_debug_tries": 5}))
    assert not summary.accepted and summary.status == "finished"
    verdicts = [v for s in steps for v in s.verdicts]
    assert verdicts == ["wrong_output", "wrong_output"]
    assert markers(tmp_path, "debugger") == 1


def test_the_iteration_budget_stops_the_run(tmp_path):
    summary, steps = run(tmp_path, write_config(tmp_path, [HONEST], budgets={"max_iters": 2}))
    assert summary.accepted and "iteration budget" in summary.stop_reason
    assert [s.node for s in steps].count("plan") == 2
    # The second round's equal solution does not replace the first (no timing on the CPU).
    assert summary.best.candidate_id == "r1-c0"


def test_an_added_role_runs_appears_in_the_trace_and_the_drawing(tmp_path):
    config = write_config(tmp_path, [HONEST], extra_roles={"auditor": {"impl": "kw_test_roles:audit", "after": "code", "options": {"marker_dir": str(tmp_path / "markers")}}})
    summary, steps = run(tmp_path, config)
    assert summary.accepted
    assert [s.node for s in steps][:4] == ["plan", "code", "auditor", "check"]
    assert steps[2].role == "auditor"
    drawing = subprocess.run([sys.executable, "-m", "kernelwright", "graph", "--config", str(config), "--json"],
                             capture_output=True, text=True, env=_env(), cwd=tmp_path)
    assert drawing.returncode == 0, drawing.stderr
    graph = json.loads(drawing.stdout)
    assert "code --> auditor" in graph["mermaid"] and "auditor --> check" in graph["mermaid"]
    roles = subprocess.run([sys.executable, "-m", "kernelwright", "roles", "--config", str(config), "--json"],
                           capture_output=True, text=True, env=_env(), cwd=tmp_path)
    row = [r for r in json.loads(roles.stdout)["roles"] if r["role"] == "auditor"][0]
    assert row["after"] == "code" and "kw_test_roles:audit" in row["source"]


def test_a_role_that_raises_ends_the_run_with_a_clear_error(tmp_path):
    config = write_config(tmp_path, [HONEST], extra_roles={"analyst": {"impl": "kw_test_roles:explode"}})
    summary, steps = run(tmp_path, config)
    assert summary.status == "failed" and not summary.accepted
    assert "the plugin broke" in summary.error and "analyze" in summary.error
    assert steps[-1].node == "analyze" and "the plugin broke" in steps[-1].error
    # The checkpoint is intact: the state before the failing node is there, with the accepted attempt.
    conn = sqlite3.connect(tmp_path / "home" / "checkpoints.db")
    assert conn.execute("select count(*) from checkpoints where thread_id = ?", [summary.run_id]).fetchone()[0] >= 4


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return env


def test_kill_9_then_resume_finishes_without_redoing_steps(tmp_path, capsys):
    config = write_config(tmp_path, [HONEST], analyst={"sleep_first_s": 120})
    home = tmp_path / "home"
    cmd = [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--config", str(config), "--home", str(home), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 180
    while markers(tmp_path, "analyst") == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert markers(tmp_path, "analyst") == 1, proc.stderr.read().decode() if proc.poll() is not None else "analyst never started"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    run_id = sqlite3.connect(home / "traces.db").execute("select run_id from runs").fetchone()[0]
    before = [s.node for s in TraceStore(home / "traces.db").steps(run_id)]
    assert before == ["plan", "code", "check", "profile"]

    # The resume in this process (kernelwright.cli.main, as `kernelwright run --resume` calls it): the
    # killed run's own process is gone either way, and a second CLI process would pay ~6 s of CPU
    # for its imports and its sandbox zygote; the run is read back from the files the kill left.
    code = main(["run", "--resume", run_id, "--home", str(home), "--json"])
    resumed = capsys.readouterr()
    assert code == 0, resumed.err
    out = json.loads(resumed.out)
    assert out["run_id"] == run_id and out["status"] == "finished" and out["accepted"]
    assert set(out) >= {"run_id", "status", "accepted", "solution_path", "best", "usage"}
    after = [s.node for s in TraceStore(home / "traces.db").steps(run_id)]
    assert after == ["plan", "code", "check", "profile", "analyze", "finish"]
    assert markers(tmp_path, "coder") == 1 and markers(tmp_path, "planner") == 1
    assert markers(tmp_path, "analyst") == 2  # the killed node runs again; nothing finished is redone


def test_the_llm_policy_without_a_model_says_so(tmp_path):
    # With no model the default is the offline expert policy (tests/test_expert_roles.py); asking
    # for the llm policy explicitly still needs one.
    r = subprocess.run([sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--policy", "llm", "--home", str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "KERNELWRIGHT_MODEL"})
    assert r.returncode == 2
    assert "--model" in r.stderr and "Traceback" not in r.stderr


def test_run_rejects_a_bad_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rolez: {}\n")
    r = subprocess.run([sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--config", str(bad), "--home", str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "rolez" in r.stderr and str(bad) in r.stderr


def test_a_role_registered_by_an_installed_package_plugs_in_by_name(tmp_path):
    site = tmp_path / "site"
    dist = site / "kwplug-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kwplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[kernelwright.roles]\naudit_ep = kwplug_mod:audit\n")
    (site / "kwplug_mod.py").write_text("def audit(state, ctx):\n    return {}\n")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"roles": {"auditor": {"impl": "audit_ep", "after": "check"}}}))
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(site), _env()["PYTHONPATH"]])}
    roles = subprocess.run([sys.executable, "-m", "kernelwright", "roles", "--config", str(config), "--json"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert roles.returncode == 0, roles.stderr
    listing = json.loads(roles.stdout)
    assert {"name": "audit_ep", "value": "kwplug_mod:audit"} in listing["entry_points"]
    row = [r for r in listing["roles"] if r["role"] == "auditor"][0]
    assert row["source"] == "entry point: kwplug_mod:audit" and row["after"] == "check"
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({"roles": {"auditor": {"impl": "no_such_role", "after": "check"}}}))
    bad = subprocess.run([sys.executable, "-m", "kernelwright", "roles", "--config", str(unknown)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "no_such_role" in bad.stderr and "audit_ep" in bad.stderr
