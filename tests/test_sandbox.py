"""The sandbox: timeouts kill the whole process group, keys stay out, output is capped."""

import os
import time

from kernelwright.tools.sandbox.process import OUTPUT_CAP_BYTES, run_child


def child_module(workdir, body: str) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "kw_test_child.py").write_text(body)
    return "kw_test_child"


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait for a reaper that containers lack)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_timeout_kills_the_child_and_its_grandchildren(tmp_path):
    marker = tmp_path / "grandchild.pid"
    mod = child_module(
        tmp_path,
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ignores the polite request\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(600)\n",
    )
    began = time.monotonic()
    r = run_child([mod], tmp_path, timeout_s=3)
    assert r.timed_out and time.monotonic() - began < 15
    grandchild = int(marker.read_text())
    time.sleep(0.5)
    assert not running(grandchild), "the grandchild outlived the sandbox"


def test_api_keys_do_not_reach_the_child(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "kw-secret")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "an-secret")
    mod = child_module(tmp_path, "import os; print(sorted(k for k in os.environ if 'KEY' in k or 'SECRET' in k))\n")
    r = run_child([mod], tmp_path, timeout_s=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


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


def test_a_segfault_is_reported_not_raised(tmp_path):
    mod = child_module(tmp_path, "import ctypes; ctypes.string_at(0)\n")
    r = run_child([mod], tmp_path, timeout_s=30)
    assert r.crashed and r.signal_name == "SIGSEGV"
