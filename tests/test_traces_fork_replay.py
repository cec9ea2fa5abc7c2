"""`kernelwright run --fork RUN --from-step N` and `run --replay RUN` on the two real runs of
trace_runs (A: the llm policy through ChatOpenAI and the loopback server; B: scripted plugin roles
whose coder offers nothing), in a copy of their home so the other trace tests see only A and B.

Fork: B forked after its plan step with a coder that writes the honest solution shares B's plan
step (not planned again) and then differs: a candidate, an accepted check, a solution.
Replay: A again with the server long stopped and no API key: the same verdicts per step and the
same token usage, served from the trace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from trace_runs import HONEST, traced_runs
from typing_extensions import TypedDict

from kernelwright.agents.context import Budgets
from kernelwright.agents.records import ForkOrigin
from kernelwright.agents.registry import resolve_roles
from kernelwright.cli import main
from kernelwright.graphs.graph import build_graph
from kernelwright.graphs.runner import RunRequest, _checkpointer, execute
from kernelwright.graphs.traces.fork import fork_point, state_at
from kernelwright.graphs.traces.replay import ReplayChatModel, ReplayMismatch
from kernelwright.graphs.traces.store import TraceStore
from kernelwright.tools.problem import InputError

from paths import PROBLEMS

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    runs = traced_runs(tmp_path_factory)
    home = tmp_path_factory.mktemp("fork-replay") / "home"
    shutil.copytree(runs.home, home)  # every write of A and B is committed (WAL files copied with them)
    return runs, home


def kw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # B's roles live in tests/ (kw_test_roles, trace_runs); no API key: a replay needs none.
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "kernelwright", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def show(home: Path, run_id: str, cwd: Path) -> dict:
    r = kw("traces", "show", run_id, "--home", str(home), "--json", cwd=cwd)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def run_json(capsys, *args: str) -> dict:
    """`kernelwright run ... --json` in this process (kernelwright.cli.main, what the command calls):
    its flags, its checks and its one JSON object, without a process that pays ~6 s of CPU for its
    imports and its sandbox zygote before the first step. A run in its own process is
    tests/test_graph_run.py's kill -9; the refusals below run here too."""
    code = main(["run", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


SHARED = ("node", "role", "started_at", "duration_s", "llm", "tools", "verdicts", "summary", "error")


def test_a_fork_shares_the_steps_up_to_n_and_differs_after(recorded, tmp_path, capsys):
    runs, home = recorded
    planned = len(list((runs.home.parent / "markers").glob("planner-*")))
    change = tmp_path / "coder.yaml"
    change.write_text(yaml.safe_dump({"roles": {"coder": {"impl": "kw_test_roles:coder", "options": {
        "marker_dir": str(tmp_path / "markers"), "sources": [str(HONEST)]}}}}))
    fork = run_json(capsys, "--fork", runs.scripted_run, "--from-step", "0", "--config", str(change), "--home", str(home))
    assert fork["accepted"] and fork["forked_from"] == {"run_id": runs.scripted_run, "step": 0}
    assert fork["run_id"] != runs.scripted_run and Path(fork["solution_path"]).read_text() == HONEST.read_text()

    old, new = show(home, runs.scripted_run, tmp_path), show(home, fork["run_id"], tmp_path)
    assert [s["node"] for s in old["steps"]] == ["plan", "code", "check", "finish"]
    assert [s["node"] for s in new["steps"]] == ["plan", "code", "check", "profile", "analyze", "finish"]
    # Step 0 is B's, copied; the fork's own steps follow it.
    assert {k: new["steps"][0][k] for k in SHARED} == {k: old["steps"][0][k] for k in SHARED}
    assert [s["inherited"] for s in new["steps"]] == [True] + [False] * 5
    assert new["forked_from"] == {"run_id": runs.scripted_run, "step": 0}
    # B's plan was not made again: the state came from B's checkpoint (round 1 goes on).
    assert len(list((runs.home.parent / "markers").glob("planner-*"))) == planned
    assert old["steps"][1]["summary"]["pending"] == [] and [c["id"] for c in new["steps"][1]["summary"]["pending"]] == ["r1-c0"]
    assert [v for s in old["steps"] for v in s["verdicts"]] == []
    assert [v for s in new["steps"] for v in s["verdicts"]] == ["accepted"]
    assert not old["accepted"] and new["accepted"] and new["best"]["candidate_id"] == "r1-c0"
    # The config is B's with the change merged over it: B's planner stays, the coder is the new one.
    assert new["config"]["roles"]["planner"] == old["config"]["roles"]["planner"]
    assert new["config"]["roles"]["coder"]["impl"] == "kw_test_roles:coder"

    listed = kw("traces", "list", "--home", str(home), cwd=tmp_path)
    assert f"(fork of {runs.scripted_run} after step 0)" in listed.stdout
    text = kw("traces", "show", fork["run_id"], "--home", str(home), cwd=tmp_path).stdout
    assert f"fork of {runs.scripted_run} after step 0" in text
    assert "= [ 0] plan" in text and "  [ 1] code" in text
    page = tmp_path / "fork.html"
    assert kw("traces", "export", fork["run_id"], "--html", str(page), "--home", str(home), cwd=tmp_path).returncode == 0
    html = page.read_text()
    assert f"fork of {runs.scripted_run} after step 0" in html and html.count("copied from the original run") == 1


def test_a_replay_without_the_endpoint_reaches_the_same_verdicts_and_usage(recorded, tmp_path, capsys, monkeypatch):
    runs, home = recorded
    # trace_runs stopped its server long ago; A's stored config still names that dead URL. No API key.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    replay = run_json(capsys, "--replay", runs.llm_run, "--home", str(home))
    assert replay["replay"] == {"of": runs.llm_run, "answers_served": 4, "answers_recorded": 4}
    assert replay["usage"] == runs.usage and replay["accepted"]

    old, new = show(home, runs.llm_run, tmp_path), show(home, replay["run_id"], tmp_path)
    assert new["replay_of"] == runs.llm_run and new["forked_from"] is None
    assert [(s["node"], s["role"], s["verdicts"]) for s in new["steps"]] == [(s["node"], s["role"], s["verdicts"]) for s in old["steps"]]
    assert [v for s in new["steps"] for v in s["verdicts"]] == ["compile_error", "accepted"]
    # Each exchange: the recorded answer with the recorded usage, in the same step.
    answers = [[(c["response"], c["usage"], c["model"]) for c in s["llm"] or []] for s in new["steps"]]
    assert answers == [[(c["response"], c["usage"], c["model"]) for c in s["llm"] or []] for s in old["steps"]]
    assert new["usage"] == old["usage"] == runs.usage
    assert new["best"]["candidate_id"] == old["best"]["candidate_id"] == "r1-c0-d1"
    page = tmp_path / "replay.html"
    assert kw("traces", "export", replay["run_id"], "--html", str(page), "--home", str(home), cwd=tmp_path).returncode == 0
    assert f"replay of {runs.llm_run}" in page.read_text()


def test_a_run_without_llm_answers_replays_by_running_again_and_a_fork_as_the_same_fork(recorded):
    runs, home = recorded
    store = TraceStore(home / "traces.db")
    nodes = ["plan", "code", "check", "finish"]  # B: its coder offers nothing, so nothing is checked
    again = execute(RunRequest(problem=None, home=home, replay=runs.scripted_run))
    assert again.replay is not None and again.replay.model_dump() == {"of": runs.scripted_run, "answers_served": 0, "answers_recorded": 0} and again.forked_from is None
    assert [s.node for s in store.steps(again.run_id)] == nodes and not again.accepted
    fork = execute(RunRequest(problem=None, home=home, fork=runs.scripted_run, from_step=1))
    replayed = execute(RunRequest(problem=None, home=home, replay=fork.run_id))
    assert fork.forked_from == replayed.forked_from == ForkOrigin(run_id=runs.scripted_run, step=1)
    assert store.run(replayed.run_id).replay_of == fork.run_id
    for run_id in (fork.run_id, replayed.run_id):
        steps = store.steps(run_id)
        assert [s.node for s in steps] == nodes
        assert [s.started_at for s in steps[:2]] == [s.started_at for s in store.steps(runs.scripted_run)[:2]]  # copies
        assert steps[2].started_at > store.steps(runs.scripted_run)[2].started_at  # its own


def test_a_fork_carries_the_state_and_its_usage_and_routes_under_its_own_budgets(recorded):
    runs, home = recorded
    store = TraceStore(home / "traces.db")
    # A's recorded endpoint is long stopped: a fork of an llm run probes it first and stops before
    # writing anything, as a new run would.
    count = "select count(*) from runs"
    before = sqlite3.connect(home / "traces.db").execute(count).fetchone()
    with pytest.raises(InputError, match="is not reachable"):
        execute(RunRequest(problem=None, home=home, fork=runs.llm_run, from_step=6))
    assert sqlite3.connect(home / "traces.db").execute(count).fetchone() == before
    # A after its analyst: the accepted best comes with the state, so the fork's finish writes it
    # without checking anything again (a model with no answers: any request would fail the run);
    # the inherited exchanges count in its usage.
    silent = ReplayChatModel(source_run=runs.llm_run, recorded={})
    fork = execute(RunRequest(problem=None, home=home, fork=runs.llm_run, from_step=6, chat_model=silent))
    assert silent.served() == 0
    assert [s.node for s in store.steps(fork.run_id)] == [s.node for s in store.steps(runs.llm_run)]
    assert fork.accepted and fork.best.candidate_id == "r1-c0-d1" and fork.usage.model_dump() == runs.usage
    assert Path(fork.solution_path).read_text() == HONEST.read_text()
    # B after its check: one round was its budget (then finish); two rounds make the fork plan again.
    longer = execute(RunRequest(problem=None, home=home, fork=runs.scripted_run, from_step=2, overrides={"budgets": {"max_iters": 2}}))
    assert [s.node for s in store.steps(longer.run_id)] == ["plan", "code", "check", "plan", "code", "check", "finish"]
    assert "iteration budget spent (2 rounds)" in longer.stop_reason


def test_steps_recorded_without_a_checkpoint_id_are_found_by_time(recorded):
    runs, home = recorded
    store = TraceStore(home / "traces.db")
    roles, added = resolve_roles("llm", {})
    compiled = build_graph(roles, added, Budgets()).compile(checkpointer=_checkpointer(home))
    steps = store.steps(runs.llm_run)
    assert all(s.checkpoint_id for s in steps)
    checked = 0
    for s in steps[:-1]:  # not finish: nothing follows it
        point = fork_point(store, runs.llm_run, s.idx)
        by_id = state_at(compiled, point)
        assert state_at(compiled, dataclasses.replace(point, checkpoint_id=None)) == by_id
        checked += s.node == "check"
        assert len(by_id["attempts"]) == checked  # the state right after this step, not another one


def test_a_replay_that_asks_for_an_unrecorded_answer_fails_clearly():
    class State(TypedDict, total=False):
        answers: list

    model = ReplayChatModel(source_run="old-run", recorded={"plan": [{"response": "STRATEGY: x", "model": "m", "usage": {
        "prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}]})

    def plan(state):
        first = model.invoke("q")
        assert first.content == "STRATEGY: x" and first.usage_metadata["total_tokens"] == 10
        assert first.response_metadata["model_name"] == "m"
        model.invoke("again")  # the trace holds one answer for `plan`
        return {"answers": [first.content]}

    graph = StateGraph(State)
    graph.add_node("plan", plan)
    graph.add_edge(START, "plan")
    with pytest.raises(ReplayMismatch, match="node 'plan' asks for answer 2, but the trace recorded 1"):
        graph.compile(checkpointer=InMemorySaver()).invoke({}, {"configurable": {"thread_id": "t"}})
    assert (model.served(), model.total()) == (1, 1)


def test_an_old_traces_db_opens_and_gains_the_new_columns(tmp_path):
    path = tmp_path / "traces.db"
    conn = sqlite3.connect(path)
    conn.execute("create table runs (run_id text primary key, problem text, policy text, model text, config text, device text, versions text, "
                 "status text, stop_reason text, error text, accepted integer, best text, usage text, created_at float, updated_at float, wall_s float)")
    conn.execute("create table steps (run_id text, idx integer, node text, role text, started_at float, duration_s float, summary text, llm text, "
                 "tools text, candidates text, verdicts text, error text, primary key (run_id, idx))")
    conn.execute("insert into runs (run_id, problem, policy, status, usage, created_at, accepted) values ('old', 'p.py', 'expert', 'finished', '{}', 0, 0)")
    conn.commit()
    conn.close()
    store = TraceStore(path)
    assert store.run("old").forked_from is None and "checkpoint_id" in store.db["steps"].columns_dict
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == 1
    TraceStore(path)  # opening again changes nothing


@pytest.mark.parametrize("args, says", [
    (["--fork", "no-such-run", "--from-step", "0"], ["no-such-run", "traces list"]),
    (["--fork", "{B}", "--from-step", "9"], ["--from-step 9", "{B} has steps 0..3", "traces show {B}"]),
    (["--fork", "{B}", "--from-step", "3"], ["step 3 of {B} is its finish"]),
    (["--fork", "{B}"], ["--from-step N"]),
    (["--fork", "{B}", "--from-step", "0", "--resume", "{B}"], ["--resume and --fork exclude each other"]),
    (["--replay", "no-such-run"], ["no-such-run", "traces list"]),
    (["--replay", "{A}", "--max-iters", "2"], ["--replay runs the recorded config"]),
    (["--from-step", "1", str(PROBLEMS / "add_mul.py")], ["--from-step N goes with --fork"]),
])
def test_bad_fork_and_replay_requests_exit_2_with_one_line(recorded, capsys, args, says):
    runs, home = recorded
    args = [a.format(A=runs.llm_run, B=runs.scripted_run) for a in args]
    says = [s.format(A=runs.llm_run, B=runs.scripted_run) for s in says]
    assert main(["run", *args, "--home", str(home), "--json"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "Traceback" not in err
    assert all(s in err for s in says), err
    assert json.loads(out)["error"] in err
