"""Two real traced runs in one home, made once per test session (the trace tests share them).

A: the llm policy through `kernelwright run` against the scripted OpenAI-compatible server: the
   planner's reply carries a `<script>` (the XSS probe), the coder's code has a compile error, the
   debugger fixes it. Nodes: plan code check debug check profile analyze finish.
B: scripted plugin roles (kw_test_roles), but a coder with no candidate to offer (`empty_coder`
   below): nothing is checked or accepted. Nodes: plan code check finish.
Both run at the same time; A's two checks (about 10 s each on the CPU) dominate.

Made once per session, not once per process: under pytest-xdist the trace tests (and
tests/test_graph_llm.py, which asserts on A's endpoint traffic) run in whichever worker takes their
file, so the first worker to need the runs makes them under a lock in the folder the workers share
and the others read its record (a second copy cost about 10 s of CPU on the 2-core CI machine).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
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
    llm_out: dict  # A's `run --json` summary
    llm_stderr: str  # A's progress display
    llm_requests: list[dict]  # the chat requests A sent, in order (path, headers, body)


_CACHE: dict[str, Runs] = {}


def empty_coder(state, ctx):
    return {"pending": []}


def _fenced(path: Path) -> str:
    return "Here is the solution.\n\n```python\n" + path.read_text() + "```\n"


def traced_runs(tmp_path_factory) -> Runs:
    if "runs" in _CACHE:
        return _CACHE["runs"]
    # Under xdist every worker's basetemp is a folder of the session's own (pytest-xdist's recipe for
    # a session fixture made once); without it, the basetemp itself (its parent holds other sessions).
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root, record = shared / "traced-runs", shared / "traced-runs.json"
    with open(shared / "traced-runs.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if making the runs fails
        if not record.exists():
            runs = _make_runs(root)
            tmp = record.with_suffix(".tmp")
            tmp.write_text(json.dumps({**asdict(runs), "home": str(runs.home)}))
            tmp.replace(record)
        data = json.loads(record.read_text())
    _CACHE["runs"] = Runs(**{**data, "home": Path(data["home"])})
    return _CACHE["runs"]


def _make_runs(root: Path) -> Runs:
    shutil.rmtree(root, ignore_errors=True)  # what a failed attempt (it wrote no record) left behind
    root.mkdir()
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
        requests = list(server.requests)
    assert proc.returncode == 0, err
    if "error" in result_b:
        raise result_b["error"]  # type: ignore[misc]
    a = json.loads(out)
    b = result_b["summary"]
    assert a["accepted"] and b.status == "finished" and not b.accepted, (a, b)
    prompt = sum(s.prompt_tokens for s in served)
    completion = sum(s.completion_tokens for s in served)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return Runs(home, a["run_id"], b.run_id, usage, a, err, requests)


def kw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelwright", *args], capture_output=True, text=True, cwd=cwd, timeout=120)
