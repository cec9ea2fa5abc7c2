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

from kernelwright.graphs.traces.store import TraceStore

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

PLAN = "STRATEGY: one fused elementwise kernel\nNEXT: write it\nEXPECTED: memory-bound, one pass"
ANALYSIS = "BOTTLENECK: launch overhead at this size\nEVIDENCE: CPU run, no timing\nNEXT MOVES: none"


def fenced(path) -> str:
    return "Here is the solution.\n\n```python\n" + path.read_text() + "```\n"


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streamed"])
def test_llm_run_fixes_a_compile_error_and_accounts_for_every_token(tmp_path, streaming):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "streaming": streaming,
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
    out = json.loads(r.stdout)
    assert out["accepted"] and out["status"] == "finished"
    assert "[check] round 1; best: r1-c0-d1" in r.stderr  # the progress display
    assert all(req["body"].get("stream", False) == streaming for req in requests)
    expected = {
        "prompt_tokens": sum(s.prompt_tokens for s in served),
        "completion_tokens": sum(s.completion_tokens for s in served),
    }
    expected["total_tokens"] = expected["prompt_tokens"] + expected["completion_tokens"]
    assert out["usage"] == expected
    steps = TraceStore(tmp_path / "home" / "traces.db").steps(out["run_id"])
    assert [s.node for s in steps] == ["plan", "code", "check", "debug", "check", "profile", "analyze", "finish"]
    llm_steps = [s.llm for s in steps if s.llm]
    assert [c[0]["role"] for c in llm_steps] == ["planner", "coder", "debugger", "analyst"]
    traced = sum(call["usage"]["total_tokens"] for calls in llm_steps for call in calls)
    assert traced == expected["total_tokens"]
    # The coder's prompt carried the reference source; the debugger's, the compile error.
    assert "class Model" in json.dumps(requests[1]["body"]["messages"])
    assert "compile_error" in json.dumps(requests[2]["body"]["messages"])


def test_traces_show_lists_every_step_and_the_endpoints_usage(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"budgets": {"max_iters": 1}, "check": {"device": "cpu", "trials": 1, "timeout_s": 120, "static_resources": False}, "profile": {"tier": "off"}}))
    home = tmp_path / "home"
    with ScriptedOpenAIServer() as server:
        server.reply(PLAN, prompt_tokens=700, completion_tokens=30)
        server.reply(fenced(SOLUTIONS / "gelu_scale.py"), prompt_tokens=800, completion_tokens=200)
        server.reply(ANALYSIS, prompt_tokens=900, completion_tokens=40)
        run = subprocess.run(
            [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--model", "scripted",
             "--base-url", server.base_url, "--config", str(config), "--home", str(home), "--json"],
            capture_output=True, text=True, cwd=tmp_path, timeout=600,
        )
    assert run.returncode == 0, run.stderr
    run_id = json.loads(run.stdout)["run_id"]
    listed = subprocess.run([sys.executable, "-m", "kernelwright", "traces", "list", "--home", str(home), "--json"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [run_id]
    shown = subprocess.run([sys.executable, "-m", "kernelwright", "traces", "show", run_id, "--home", str(home), "--json"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["run_id"] == run_id and data["status"] == "finished"
    assert [(s["index"], s["node"], s["role"]) for s in data["steps"]] == [
        (0, "plan", "planner"), (1, "code", "coder"), (2, "check", None), (3, "profile", None),
        (4, "analyze", "analyst"), (5, "finish", None)]
    assert all(s["duration_s"] >= 0 for s in data["steps"]) and data["steps"][2]["llm"] is None
    assert data["usage"] == {"prompt_tokens": 2400, "completion_tokens": 270, "total_tokens": 2670}
    assert data["steps"][1]["llm"][0]["response"].startswith("Here is the solution")
    missing = subprocess.run([sys.executable, "-m", "kernelwright", "traces", "show", "nope", "--home", str(home)],
                             capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_plain_answers_to_every_role_yield_an_accepted_run_and_its_cost(tmp_path):
    """A small local model's way of answering: "Plan: ..." and one fenced block, for every role,
    ignoring the requested sections (and the JSON schema that `llm.structured: auto` asks for)."""
    plain = "Plan: one fused elementwise kernel, one pass over memory.\n\n```python\n" + (SOLUTIONS / "gelu_scale.py").read_text() + "```\n"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "budgets": {"max_iters": 1}, "llm": {"prices": {"scripted": {"input": 2.0, "output": 8.0}}},
        "check": {"device": "cpu", "trials": 1, "timeout_s": 120, "static_resources": False}, "profile": {"tier": "off"},
    }))
    home = tmp_path / "home"
    with ScriptedOpenAIServer() as server:
        for _ in range(3):  # planner, coder, analyst: one answer each, no retry needed
            server.reply(plain, prompt_tokens=1000, completion_tokens=500)
        r = subprocess.run(
            [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--model", "scripted",
             "--base-url", server.base_url, "--config", str(config), "--home", str(home), "--json"],
            capture_output=True, text=True, cwd=tmp_path, timeout=600,
        )
        requests = list(server.requests)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["accepted"] and len(requests) == 3
    assert requests[0]["body"]["response_format"]["type"] == "json_schema"  # asked for, ignored by this server
    cost = 3 * (1000 * 2.0 + 500 * 8.0) / 1e6
    assert out["usage"]["cost_usd"] == pytest.approx(cost)
    report = json.loads((tmp_path / "home" / "runs" / out["run_id"] / "report.json").read_text())
    assert report["usage"]["cost_usd"] == pytest.approx(cost)
    shown = subprocess.run([sys.executable, "-m", "kernelwright", "traces", "show", out["run_id"], "--home", str(home)],
                           capture_output=True, text=True, cwd=tmp_path)
    assert f"cost ${cost:.4f}" in shown.stdout
    data = json.loads(subprocess.run([sys.executable, "-m", "kernelwright", "traces", "show", out["run_id"], "--home", str(home), "--json"],
                                     capture_output=True, text=True, cwd=tmp_path).stdout)
    plan_call = data["steps"][0]["llm"][0]
    assert plan_call["missing"] == ["STRATEGY", "NEXT", "EXPECTED"] and plan_call["answer_format"] == "text"
