"""The OS sandbox, child by child: each escape a candidate could try is contained by the operating
system, not by the static scan (these children are plain Python modules that the scan never sees).

Each test starts a real sandboxed child (bubblewrap here) that tries one escape, then asserts from
outside that the effect did not happen: the secret was not found, the file is unchanged, the
listener got no connection, no process is left.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kernelwright.tools.sandbox import warm
from kernelwright.tools.sandbox.child import OUTPUT_CAP_BYTES, run_child, start_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.sandbox.policy import SandboxPolicy
from kernelwright.tools.sandbox.support import probe

SECRET = "sk-" + "kwtest" + secrets.token_hex(12)
full_sandbox = pytest.mark.skipif(not probe().usable, reason="bubblewrap cannot run on this machine (see `kernelwright doctor`)")


@pytest.fixture(params=["cold", "warm"])
def place(request, tmp_path):
    """Where a test's sandboxed files live: anywhere for a cold child (one bubblewrap per child);
    inside the warm worker's jobs folder for a job forked from the zygote (Landlock-confined)."""
    if request.param == "warm":
        if warm.available() is not None:
            pytest.skip(f"no warm worker here: {warm.available()}")
        root = warm.jobs_root() / f"test-{secrets.token_hex(4)}"
        root.mkdir()
        yield root
        shutil.rmtree(root, ignore_errors=True)
    else:
        yield tmp_path


def child_module(workdir: Path, body: str) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "kw_test_child.py").write_text(textwrap.dedent(body))
    return "kw_test_child"


def processes_with(token: str) -> list[int]:
    """Host PIDs whose command line holds `token` (zombies excluded: they wait for a reaper)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if token not in (entry / "cmdline").read_bytes().decode(errors="replace"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def gone_within(token: str, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while processes_with(token):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


ESCAPEE = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
# A daemon: double fork, its own session, deaf to SIGTERM; the token marks it on the host.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.execv(sys.executable, [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)", "{token}"])
    os._exit(0)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{token}"], start_new_session=True)
time.sleep(0.5)
print("spawned", flush=True)
{tail}
"""


@full_sandbox
def test_a_timeout_kills_the_whole_tree_setsid_daemons_included(place):
    token = f"kwtok{secrets.token_hex(6)}"
    mod = child_module(place, ESCAPEE.format(token=token, tail="time.sleep(600)"))
    r = run_child([mod], place, timeout_s=4)
    assert r.timed_out and "spawned" in r.stdout
    assert gone_within(token), f"processes outlived the sandbox: {processes_with(token)}"


@full_sandbox
def test_a_child_that_exits_leaves_no_process_behind(place):
    token = f"kwtok{secrets.token_hex(6)}"
    mod = child_module(place, ESCAPEE.format(token=token, tail="sys.exit(0)"))
    r = run_child([mod], place, timeout_s=30)
    assert r.returncode == 0 and "spawned" in r.stdout, r.stderr
    assert gone_within(token), f"processes outlived the child: {processes_with(token)}"


DRIVER = """
import shutil, sys, time
from pathlib import Path
from kernelwright.tools.sandbox import warm
from kernelwright.tools.sandbox.child import start_child
work = Path(sys.argv[1])
if sys.argv[2] == "warm":  # a job of this process's own warm worker
    work = shutil.copytree(work, warm.jobs_root() / "job")
session = start_child(["kw_test_child"], work, timeout_s=600)
print("started", type(session).__name__, flush=True)
time.sleep(600)
"""


@full_sandbox
@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_kill_9_of_the_parent_takes_the_sandbox_down(tmp_path, mode):
    if mode == "warm" and warm.available() is not None:
        pytest.skip(f"no warm worker here: {warm.available()}")
    token = f"kwtok{secrets.token_hex(6)}"
    child_module(tmp_path, ESCAPEE.format(token=token, tail="time.sleep(600)"))
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), mode], stdout=subprocess.PIPE, text=True)
    assert driver.stdout.readline().split() == ["started", "WarmChild" if mode == "warm" else "ChildSession"]
    # The escapee's last act is its daemon's child (the only process whose command line holds the
    # token in both modes): once it exists, the whole tree the kill must take down is there.
    deadline = time.monotonic() + 60
    while not processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(token), "the escapee never started"
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert gone_within(token), f"processes outlived their killed parent: {processes_with(token)}"


@full_sandbox
def test_the_parents_environment_and_other_processes_are_out_of_reach(place, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    mod = child_module(place, """
        import os
        seen = [repr(dict(os.environ))]
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        for pid in pids + [str(os.getppid()), "1"]:
            for what in ("environ", "cmdline"):
                try:
                    seen.append(open(f"/proc/{pid}/{what}", "rb").read().decode(errors="replace"))
                except OSError:
                    pass
        print("PIDS", len(pids))
        print("FOUND" if any(SECRET in s for s in seen) else "CLEAN")
    """.replace("SECRET", repr(SECRET)))
    r = run_child([mod], place, timeout_s=30)
    assert r.returncode == 0, r.stderr
    assert "CLEAN" in r.stdout and SECRET not in r.stdout
    # Its own PID namespace: bubblewrap's init (or the zygote and its jobs), nothing of the host.
    assert int(r.stdout.split("PIDS")[1].split()[0]) < 20


@full_sandbox
def test_files_outside_the_sandbox_cannot_be_read(tmp_path, place):
    user_file = tmp_path / "user" / "notes.txt"
    user_file.parent.mkdir()
    user_file.write_text(SECRET)
    home = tmp_path / "kwhome"
    home.mkdir()
    (home / "memory.db").write_text(SECRET)
    work = place / "work"
    mod = child_module(work, f"""
        import os
        for path in [{str(user_file)!r}, {str(home / "memory.db")!r}, os.path.expanduser("~root/.bashrc"), "/etc/shadow"]:
            try:
                print(path, open(path).read()[:40])
            except OSError as exc:
                print(path, "DENIED", type(exc).__name__)
        print("LISTING", os.path.exists({str(tmp_path)!r} + "/user"), os.path.exists({str(home)!r}))
    """)
    r = run_child([mod], work, timeout_s=30)
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout and r.stdout.count("DENIED") == 4, r.stdout
    assert "LISTING False False" in r.stdout


@full_sandbox
def test_writes_land_only_in_the_work_folder(place):
    problem = place / "problems" / "problem.py"
    problem.parent.mkdir()
    problem.write_text("ORIGINAL = 1\n")
    home, other = place / "kwhome", place / "elsewhere"  # beside the job: in the zygote's view when warm
    home.mkdir(), other.mkdir()
    work = place / "work"
    targets = [problem, home / "memory.db", other / "planted.py", Path("/usr/kw_planted"), Path("/etc/kw_planted")]
    mod = child_module(work, f"""
        import os
        for path in {[str(t) for t in targets]!r} + [os.path.join(os.getcwd(), "mine.txt")]:
            try:
                with open(path, "w") as fh:
                    fh.write("PLANTED")
                print(path, "WROTE")
            except OSError as exc:
                print(path, "DENIED", type(exc).__name__)
    """)
    # The problem is readable (as a check's copy would be), never writable.
    r = run_child([mod], work, timeout_s=30, mounts=Mounts(readable=(problem,)))
    assert r.returncode == 0, r.stderr
    assert problem.read_text() == "ORIGINAL = 1\n"
    assert not (home / "memory.db").exists() and not (other / "planted.py").exists()
    assert not Path("/usr/kw_planted").exists() and not Path("/etc/kw_planted").exists()
    assert (work / "mine.txt").read_text() == "PLANTED"  # its own folder stays usable
    assert r.stdout.count("DENIED") == len(targets), r.stdout


@full_sandbox
def test_no_network_not_even_loopback(tmp_path, place):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    unix_path = tmp_path / "kw.sock"
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(unix_path))
    unix.listen(1)
    mod = child_module(place / "work", f"""
        import socket
        for family, address in ((socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_UNIX, {str(unix_path)!r}),
                                (socket.AF_INET, ("1.1.1.1", 443))):
            s = socket.socket(family)
            s.settimeout(2)
            try:
                s.connect(address)
                s.sendall(b"{SECRET}")
                print(address, "CONNECTED")
            except OSError as exc:
                print(address, "REFUSED", type(exc).__name__)
    """)
    r = run_child([mod], place / "work", timeout_s=30)
    assert r.returncode == 0, r.stderr
    assert "CONNECTED" not in r.stdout and r.stdout.count("REFUSED") == 3, r.stdout
    # Nothing in either queue. A connect the kernel accepted would already be queued: the child (its
    # whole tree, tested above) is gone, so there is nothing to wait for (a 2 s wait each, before).
    for sock in (listener, unix):
        sock.setblocking(False)
        with pytest.raises(BlockingIOError):
            sock.accept()
    listener.close(), unix.close()


@full_sandbox
def test_inherited_file_descriptors_are_closed(tmp_path, place):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    fd = os.open(secret_file, os.O_RDONLY)
    os.set_inheritable(fd, True)
    try:
        mod = child_module(place / "work", """
            import os
            found = []
            for fd in range(3, 256):
                try:
                    found.append(os.read(fd, 100))
                except OSError:
                    pass
            print("FOUND", found)
        """)
        r = run_child([mod], place / "work", timeout_s=30)
    finally:
        os.close(fd)
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout


def test_memory_beyond_the_limit_fails_in_the_child(place):
    mod = child_module(place, """
        chunks = []
        for _ in range(32):
            chunks.append(bytearray(64 * 2**20))  # 2 GiB in all, 64 MiB at a time
        print("ALLOCATED")
    """)
    # A 1 GiB cap: the child fails after zeroing about 1 GiB, not 4 (it was 30 s of a loaded CI core).
    r = run_child([mod], place, timeout_s=60, policy=SandboxPolicy(memory_gb=1.0))
    assert "ALLOCATED" not in r.stdout
    assert r.returncode != 0 and "MemoryError" in r.stderr


def test_api_keys_do_not_reach_the_child(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "kw-secret-value")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "an-secret-value")
    mod = child_module(tmp_path, "import os; print(sorted(k for k in os.environ if 'KEY' in k or 'SECRET' in k or 'KERNELWRIGHT' in k))\n")
    r = run_child([mod], tmp_path, timeout_s=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_what_a_child_prints_is_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-" + SECRET[3:])
    mod = child_module(tmp_path, f"""
        import sys
        print("key {SECRET} and {"tok-" + SECRET[3:]} and ghp_{"a" * 36}")
        raise RuntimeError("leaking {SECRET}")
    """)
    r = run_child([mod], tmp_path, timeout_s=30)
    assert SECRET not in r.stdout + r.stderr and SECRET[3:] not in r.stdout + r.stderr
    assert "ghp_" not in r.stdout and r.stdout.count("[REDACTED]") == 3
    assert "RuntimeError: leaking [REDACTED]" in r.stderr


def test_caches_are_per_run_and_inside_the_workdir(tmp_path):
    mod = child_module(tmp_path, "import os; print(os.environ['TRITON_CACHE_DIR']); print(os.environ['TORCHINDUCTOR_CACHE_DIR'])\n")
    r = run_child([mod], tmp_path, timeout_s=30)
    for line in r.stdout.split():
        assert line.startswith(str(tmp_path))


def test_candidate_numerics_do_not_follow_the_callers_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRITON_DEFAULT_FP_FUSION", "0")
    mod = child_module(tmp_path, "import os; print(os.environ.get('TRITON_DEFAULT_FP_FUSION'))\n")
    r = run_child([mod], tmp_path, timeout_s=30)
    assert r.stdout.strip() == "1", r.stdout


def test_output_is_capped(tmp_path):
    mod = child_module(tmp_path, "import sys\nfor _ in range(100000): sys.stdout.write('x' * 99 + '\\n')\n")
    r = run_child([mod], tmp_path, timeout_s=60)
    assert r.returncode == 0
    assert len(r.stdout) < OUTPUT_CAP_BYTES + 100 and "bytes cut" in r.stdout


def test_a_segfault_is_reported_not_raised(place):
    mod = child_module(place, "import ctypes; ctypes.string_at(0)\n")
    r = run_child([mod], place, timeout_s=30)
    assert r.crashed and r.signal_name == "SIGSEGV"


def test_a_session_answers_over_its_pipe(place):
    mod = child_module(place, "import sys; print(sys.stdin.readline().strip().upper(), flush=True)\n")
    session = start_child([mod], place, timeout_s=30)
    assert session.send(b"hello\n")
    out = place / "child.stdout"
    assert session.wait_until(lambda: out.exists() and "HELLO" in out.read_text(), 30) == "ready"
    assert session.close().returncode == 0
