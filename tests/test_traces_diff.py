"""`kernelwright traces diff RUN_A RUN_B`: per-step (aligned on the node sequence) and outcome
differences of two real runs; unknown ids are bad input (exit 2, one line)."""

from __future__ import annotations

import json

import pytest
from trace_runs import kw, traced_runs

from kernelwright.graphs.traces.diff import diff_runs
from kernelwright.graphs.traces.records import RunShown, TraceRun, TraceStep


@pytest.fixture
def runs(tmp_path_factory):
    return traced_runs(tmp_path_factory)


def test_diff_aligns_the_steps_and_reports_the_outcome(runs, tmp_path):
    r = kw("traces", "diff", runs.llm_run, runs.scripted_run, "--home", str(runs.home), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["run_a"], d["run_b"]) == (runs.llm_run, runs.scripted_run)
    ops = [(row["op"], (row["a"] or row["b"])["node"]) for row in d["steps"]]
    # A: plan code check(compile_error) debug check(accepted) profile analyze finish;
    # B: plan code check(nothing to check) finish.
    assert ops == [("changed", "plan"), ("changed", "code"), ("changed", "check"), ("only_a", "debug"), ("only_a", "check"),
                   ("only_a", "profile"), ("only_a", "analyze"), ("same", "finish")]
    assert d["counts"] == {"same": 1, "changed": 3, "only_a": 4, "only_b": 0} and not d["identical_path"]
    matched = [row for row in d["steps"] if row["a"] and row["b"]]
    assert all(isinstance(row["duration_delta_s"], float) for row in matched)
    # The LLM planner and coder spent tokens in A, the scripted ones none in B; the roles are the same.
    plan = matched[0]
    assert plan["differences"] == ["tokens"] and (plan["a"]["tokens"], plan["b"]["tokens"]) == (730, 0)
    check = matched[2]
    assert check["differences"] == ["verdicts"] and (check["a"]["verdicts"], check["b"]["verdicts"]) == (["compile_error"], [])
    out = d["outcome"]
    assert out["status"] == {"a": "finished", "b": "finished", "same": True}
    assert out["accepted"] == {"a": True, "b": False, "same": False}
    assert out["best_candidate"] == {"a": "r1-c0-d1", "b": None, "same": False}
    assert out["verdicts"] == {"a": ["compile_error", "accepted"], "b": [], "same": False}
    assert out["total_tokens"] == {"a": runs.usage["total_tokens"], "b": 0, "same": False}
    assert out["best_speedup"] == {"a": None, "b": None, "same": True}  # CPU: no timing
    # The terminal view says the same.
    text = kw("traces", "diff", runs.llm_run, runs.scripted_run, "--home", str(runs.home), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "4 only in A" in text.stdout and "*accepted" in text.stdout and "- A [ 3] debug" in text.stdout


def test_a_run_diffed_with_itself_has_no_differences(runs, tmp_path):
    r = kw("traces", "diff", runs.scripted_run, runs.scripted_run, "--home", str(runs.home), "--json", cwd=tmp_path)
    d = json.loads(r.stdout)
    assert d["identical_path"] and {row["op"] for row in d["steps"]} == {"same"}
    assert all(f["same"] for f in d["outcome"].values())


def test_unknown_run_ids_exit_2_with_one_line(runs, tmp_path):
    for args in ([runs.llm_run, "no-such-run"], ["no-such-run", runs.llm_run]):
        r = kw("traces", "diff", *args, "--home", str(runs.home), cwd=tmp_path)
        assert r.returncode == 2 and "no-such-run" in r.stderr
        assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    r = kw("traces", "export", "no-such-run", "--html", str(tmp_path / "x.html"), "--home", str(runs.home), "--json", cwd=tmp_path)
    assert r.returncode == 2 and "no-such-run" in r.stderr and not (tmp_path / "x.html").exists()
    assert json.loads(r.stdout) == {"error": r.stderr.strip().removeprefix("kernelwright: error: ")}


def test_diff_of_synthetic_runs_pairs_replaced_nodes_as_only_a_and_only_b():
    def run(rid, nodes):
        row = TraceRun(run_id=rid, problem="p.py", policy="expert", status="finished", created_at=0.0)
        return RunShown.of_steps(row, [TraceStep(run_id=rid, idx=i, node=n, started_at=0.0, duration_s=1.0) for i, n in enumerate(nodes)])

    d = diff_runs(run("a", ["plan", "code", "auditor", "check"]), run("b", ["plan", "code", "reviewer", "check"]))
    assert [(r.op, (r.a or r.b).node) for r in d.steps] == [
        ("same", "plan"), ("same", "code"), ("only_a", "auditor"), ("only_b", "reviewer"), ("same", "check")]
