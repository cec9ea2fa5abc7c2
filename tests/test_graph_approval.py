"""`kernelwright run --approve plan`: the run pauses with LangGraph's interrupt after the plan,
and goes on from the checkpoint with a person's answer, given to `kernelwright resume` or typed
at the terminal prompt. Offline: the expert policy, real checks on the CPU."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest
import yaml

from kernelwright.cli import main

from paths import PROBLEMS


@pytest.fixture
def quick(tmp_path):
    config = tmp_path / "quick.yaml"
    config.write_text(yaml.safe_dump({"budgets": {"max_iters": 1}, "profile": {"tier": "off"},
                                      "check": {"device": "cpu", "trials": 1, "timeout_s": 120, "static_resources": False}}))
    return config


def kw(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kernelwright", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, stdin=subprocess.DEVNULL, timeout=600)


def nodes(home, run_id, cwd):
    shown = json.loads(kw("traces", "show", run_id, "--home", home, "--json", cwd=cwd).stdout)
    return [s["node"] for s in shown["steps"]], shown


def test_a_plan_waits_for_approval_and_the_run_resumes_from_the_checkpoint(tmp_path, quick, capsys, monkeypatch):
    home = tmp_path / "home"
    first = kw("run", PROBLEMS / "gelu_scale.py", "--policy", "expert", "--approve", "plan", "--config", quick,
               "--home", home, "--json", cwd=tmp_path)
    assert first.returncode == 1, first.stderr
    paused = json.loads(first.stdout)
    run_id = paused["run_id"]
    assert paused["status"] == "paused" and not paused["accepted"]
    assert paused["awaiting"]["approve"] == "plan" and paused["awaiting"]["plan"].startswith("STRATEGY: elementwise")
    assert nodes(home, run_id, tmp_path)[0] == ["plan"]
    listed = json.loads(kw("traces", "list", "--home", home, "--json", cwd=tmp_path).stdout)["runs"]
    assert [(r["run_id"], r["status"]) for r in listed] == [(run_id, "paused")]

    # The refusals in this process (kernelwright.cli.main, as the command calls it): a `resume`
    # process pays ~3 s of CPU for its imports before it looks at the answer.
    assert main(["resume", run_id, "--answer", "maybe", "--home", str(home)]) == 2
    assert "approve | reject" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO())  # no terminal, also under `pytest -s` at one
    assert main(["resume", run_id, "--home", str(home)]) == 2  # and no answer
    assert f"kernelwright resume {run_id} --answer" in capsys.readouterr().err

    done = kw("resume", run_id, "--answer", "approve", "--home", home, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["accepted"] and out["status"] == "finished" and out["awaiting"] is None
    steps, shown = nodes(home, run_id, tmp_path)
    # The planner ran once: the resume went on from the checkpoint after the plan.
    assert steps == ["plan", "approve_plan", "code", "check", "profile", "analyze", "finish"]
    assert shown["steps"][1]["summary"]["approvals"] == [{"node": "plan", "round": 1, "decision": "approve", "text": ""}]
    assert main(["resume", run_id, "--answer", "approve", "--home", str(home)]) == 2
    assert "not waiting for an approval" in capsys.readouterr().err


def _talk(argv, answer: str, cwd, timeout_s: float = 300) -> tuple[int, str]:
    """Run `argv` on a pseudo-terminal; type `answer` when the prompt shows; all it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=subprocess.PIPE, stderr=follower, cwd=cwd, close_fds=True)
    os.close(follower)
    seen, typed, deadline = b"", False, time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                seen += os.read(leader, 65536)
            except OSError:
                break
        if not typed and b"> " in seen:
            os.write(leader, answer.encode() + b"\n")
            typed = True
    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    os.close(leader)
    return proc.returncode, seen.decode(errors="replace")


def test_a_person_at_the_terminal_rejects_the_plan(tmp_path, quick):
    home = tmp_path / "home"
    code, screen = _talk([sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "gelu_scale.py"), "--policy", "expert",
                          "--approve", "plan", "--config", str(quick), "--home", str(home)], "reject too risky", tmp_path)
    assert code == 1, screen
    assert "approve the plan of round 1?" in screen and "STRATEGY: elementwise" in screen
    assert "rejected by a person: too risky" in screen
    run_id = json.loads(kw("traces", "list", "--home", home, "--json", cwd=tmp_path).stdout)["runs"][0]["run_id"]
    steps, shown = nodes(home, run_id, tmp_path)
    assert steps == ["plan", "approve_plan", "finish"] and shown["status"] == "finished"
    assert shown["stop_reason"] == "the plan of round 1 was rejected by a person: too risky"
