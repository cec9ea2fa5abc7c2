"""`kernelwright run` with the llm policy: the real CLI, the real ChatOpenAI client over HTTP to a
scripted OpenAI-compatible server on 127.0.0.1, real checks on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from openai_server import ScriptedOpenAIServer
from trace_runs import traced_runs

from kernelwright.graphs.traces.store import TraceStore

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

PLAN = "STRATEGY: one fused elementwise kernel\nNEXT: write it\nEXPECTED: memory-bound, one pass"
ANALYSIS = "BOTTLENECK: launch overhead at this size\nEVIDENCE: CPU run, no timing\nNEXT MOVES: none"


def fenced(path) -> str:
    return "Here is the solution.\n\n```python\n" + path.read_text() + "```\n"


def assert_the_fix_and_its_tokens(out: dict, stderr: str, usage: dict, requests: list[dict], home, streaming: bool) -> None:
    """A run whose coder's first answer does not compile and whose debugger's does: accepted, and
    every token the endpoint reported is in the run's usage and in its trace."""
    assert out["accepted"] and out["status"] == "finished"
    assert "[check] round 1; best: r1-c0-d1" in stderr  # the progress display
    assert all(req["body"].get("stream", False) == streaming for req in requests)
    assert out["usage"] == usage
    steps = TraceStore(home / "traces.db").steps(out["run_id"])
    assert [s.node for s in steps] == ["plan", "code", "check", "debug", "check", "profile", "analyze", "finish"]
    llm_steps = [s.llm for s in steps if s.llm]
    assert [c[0]["role"] for c in llm_steps] == ["planner", "coder", "debugger", "analyst"]
    traced = sum(call["usage"]["total_tokens"] for calls in llm_steps for call in calls)
    assert traced == usage["total_tokens"]
    # The coder's prompt carried the reference source; the debugger's, the compile error.
    assert "class Model" in json.dumps(requests[1]["body"]["messages"])
    assert "compile_error" in json.dumps(requests[2]["body"]["messages"])


def test_llm_run_fixes_a_compile_error_and_accounts_for_every_token(tmp_path_factory):
    # The plain (non-streamed) form of this run is trace_runs' run A: the same script (plan, a coder
    # answer that does not compile, the debugger's fix, the analysis) through the same CLI, made
    # once per session for the trace tests too (a run of its own here cost ~8 s of CPU).
    runs = traced_runs(tmp_path_factory)
    assert_the_fix_and_its_tokens(runs.llm_out, runs.llm_stderr, runs.usage, runs.llm_requests, runs.home, streaming=False)


def test_a_streamed_llm_run_fixes_a_compile_error_and_accounts_for_every_token(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "streaming": True,
        "budgets": {"max_iters": 1},
        "check": {"device": "cpu", "trials": 2, "timeout_s": 120, "static_resources": False},
        "profile": {"tier": "off"},  # profiling is tested on its own; CI time is tight
    }))
    with ScriptedOpenAIServer() as server:
        server.reply(PLAN, prompt_tokens=900, completion_tokens=40)
        server.reply(fenced(CANDIDATES / "gelu_scale" / "compile_error_undefined_tl.py"), prompt_tokens=1200, completion_tokens=300)
        server.reply(fenced(SOLUTIONS / "gelu_scale.py"), prompt_tokens=1500, completion_tokens=310)
        server.reply(ANALYSIS, prompt_tokens=1000, completion_tokens=50)
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
        r = subprocess.run(
            [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--model", "scripted",
             "--base-url", server.base_url, "--config", str(config), "--home", str(tmp_path / "home"), "--json"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600,
        )
        served = list(server.served)
        requests = list(server.requests)
    assert r.returncode == 0, r.stderr
    prompt, completion = sum(s.prompt_tokens for s in served), sum(s.completion_tokens for s in served)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    assert_the_fix_and_its_tokens(json.loads(r.stdout), r.stderr, usage, requests, tmp_path / "home", streaming=True)


def kw(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelwright", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    """A small local model's way of answering: "Plan: ..." and one fenced block, for every role,
    ignoring the requested sections (and the JSON schema that `llm.structured: auto` asks for).
    One run for this module's two tests (its answers, its cost, and `traces list`/`show` on it)."""
    tmp = tmp_path_factory.mktemp("plain-run")
    plain = "Plan: one fused elementwise kernel, one pass over memory.\n\n```python\n" + (SOLUTIONS / "gelu_scale.py").read_text() + "```\n"
    config = tmp / "config.yaml"
    config.write_text(yaml.safe_dump({
        "budgets": {"max_iters": 1}, "llm": {"prices": {"scripted": {"input": 2.0, "output": 8.0}}},
        "check": {"device": "cpu", "trials": 1, "timeout_s": 120, "static_resources": False}, "profile": {"tier": "off"},
    }))
    home = tmp / "home"
    with ScriptedOpenAIServer() as server:
        for _ in range(3):  # planner, coder, analyst: one answer each, no retry needed
            server.reply(plain, prompt_tokens=1000, completion_tokens=500)
        r = subprocess.run(
            [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--model", "scripted",
             "--base-url", server.base_url, "--config", str(config), "--home", str(home), "--json"],
            capture_output=True, text=True, cwd=tmp, timeout=600,
        )
        requests = list(server.requests)
    assert r.returncode == 0, r.stderr
    return tmp, home, json.loads(r.stdout), requests


COST = 3 * (1000 * 2.0 + 500 * 8.0) / 1e6  # the plain run's three answers at its configured prices


def test_plain_answers_to_every_role_yield_an_accepted_run_and_its_cost(plain_run):
    tmp, home, out, requests = plain_run
    assert out["accepted"] and len(requests) == 3
    assert requests[0]["body"]["response_format"]["type"] == "json_schema"  # asked for, ignored by this server
    assert out["usage"]["cost_usd"] == pytest.approx(COST)
    report = json.loads((home / "runs" / out["run_id"] / "report.json").read_text())
    assert report["usage"]["cost_usd"] == pytest.approx(COST)
    shown = kw("traces", "show", out["run_id"], "--home", str(home), cwd=tmp)
    assert f"cost ${COST:.4f}" in shown.stdout
    data = json.loads(kw("traces", "show", out["run_id"], "--home", str(home), "--json", cwd=tmp).stdout)
    plan_call = data["steps"][0]["llm"][0]
    assert plan_call["missing"] == ["STRATEGY", "NEXT", "EXPECTED"] and plan_call["answer_format"] == "text"


def test_traces_show_lists_every_step_and_the_endpoints_usage(plain_run):
    tmp, home, out, _ = plain_run
    run_id = out["run_id"]
    listed = kw("traces", "list", "--home", str(home), "--json", cwd=tmp)
    assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [run_id]
    shown = kw("traces", "show", run_id, "--home", str(home), "--json", cwd=tmp)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["run_id"] == run_id and data["status"] == "finished"
    assert [(s["index"], s["node"], s["role"]) for s in data["steps"]] == [
        (0, "plan", "planner"), (1, "code", "coder"), (2, "check", None), (3, "profile", None),
        (4, "analyze", "analyst"), (5, "finish", None)]
    assert all(s["duration_s"] >= 0 for s in data["steps"]) and data["steps"][2]["llm"] is None
    assert {k: data["usage"][k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")} == {
        "prompt_tokens": 3000, "completion_tokens": 1500, "total_tokens": 4500}
    assert data["steps"][1]["llm"][0]["response"].startswith("Plan: one fused elementwise kernel")
    missing = kw("traces", "show", "nope", "--home", str(home), cwd=tmp)
    assert missing.returncode == 2 and "nope" in missing.stderr
