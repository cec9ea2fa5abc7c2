"""Two real traced runs in one home, made once per test session (the trace tests share them).

A: the llm policy through `kernelwright run` against the scripted OpenAI-compatible server: the
   planner's reply carries a `<script>` (the XSS probe), the coder's code has a compile error, the
   debugger fixes it. Nodes: plan code check debug check profile analyze finish.
B: scripted plugin roles (kw_test_roles), but a coder with no candidate to offer (`empty_coder`
   below): nothing is checked or accepted. Nodes: plan code check finish.
Both run at the same time; A's two checks (about 10 s each on the CPU) dominate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml
from openai_server import ScriptedOpenAIServer

from kernelwright.graphs.runner import RunRequest, execute

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

TESTS = Path(__file__).resolve().parent
HONEST = SOLUTIONS / "gelu_scale.py"
BROKEN = CANDIDATES / "gelu_scale" / "compile_error_undefined_tl.py"
XSS = "<script>document.title='PWNED';document.documentElement.setAttribute('data-pwned','1')</script>"
PLAN = f"STRATEGY: one fused elementwise kernel {XSS}\nNEXT: write it <img src=x onerror=alert(1)>\nEXPECTED: memory-bound"
ANALYSIS = "BOTTLENECK: launch overhead\nEVIDENCE: CPU run, no timing\nNEXT MOVES: none"


@dataclass
class Runs:
    home: Path
    llm_run: str  # A
    scripted_run: str  # B
    usage: dict[str, int]  # what the endpoint reported for A


_CACHE: dict[str, Runs] = {}


def empty_coder(state, ctx):
    return {"pending": []}


def _fenced(path: Path) -> str:
    return "Here is the solution.\n\n```python\n" + path.read_text() + "```\n"


def traced_runs(tmp_path_factory) -> Runs:
    if "runs" in _CACHE:
        return _CACHE["runs"]
    root = tmp_path_factory.mktemp("traced-runs")
    home = root / "home"
    cfg_a = root / "a.yaml"
    # No sm_90 compile and no profiling in these runs: the tests read steps, not profiles (CI time).
    quick = {"check": {"device": "cpu", "trials": 1, "timeout_s": 120, "static_resources": False}, "profile": {"tier": "off"}}
    cfg_a.write_text(yaml.safe_dump({"budgets": {"max_iters": 1}, **quick}))
    markers = str(root / "markers")
    cfg_b = root / "b.yaml"
    cfg_b.write_text(yaml.safe_dump({
        "roles": {
            "planner": {"impl": "kw_test_roles:planner", "options": {"marker_dir": markers}},
            "coder": {"impl": "trace_runs:empty_coder"},
            "debugger": {"impl": "kw_test_roles:debugger", "options": {"marker_dir": markers, "fix": str(HONEST)}},
            "analyst": {"impl": "kw_test_roles:analyst", "options": {"marker_dir": markers}},
        },
        "budgets": {"max_iters": 1, "max_debug_tries": 2, "patience": 5},
        **quick,
    }))
    result_b: dict[str, object] = {}

    def run_b() -> None:
        try:
            result_b["summary"] = execute(RunRequest(problem=str(PROBLEMS / "gelu_scale.py"), home=home, config_path=str(cfg_b)))
        except Exception as exc:  # surfaced below
            result_b["error"] = exc

    with ScriptedOpenAIServer() as server:
        server.reply(PLAN, prompt_tokens=700, completion_tokens=30)
        server.reply(_fenced(BROKEN), prompt_tokens=800, completion_tokens=200)
        server.reply(_fenced(HONEST), prompt_tokens=900, completion_tokens=210)
        server.reply(ANALYSIS, prompt_tokens=1000, completion_tokens=40)
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--model", "scripted",
             "--base-url", server.base_url, "--config", str(cfg_a), "--home", str(home), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root, env=env,
        )
        worker = threading.Thread(target=run_b)
        worker.start()
        out, err = proc.communicate(timeout=300)
        worker.join(300)
        served = list(server.served)
    assert proc.returncode == 0, err
    if "error" in result_b:
        raise result_b["error"]  # type: ignore[misc]
    a = json.loads(out)
    b = result_b["summary"]
    assert a["accepted"] and b.status == "finished" and not b.accepted, (a, b)
    prompt = sum(s.prompt_tokens for s in served)
    completion = sum(s.completion_tokens for s in served)
    _CACHE["runs"] = Runs(home, a["run_id"], b.run_id, {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
    return _CACHE["runs"]


def kw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelwright", *args], capture_output=True, text=True, cwd=cwd, timeout=120)
