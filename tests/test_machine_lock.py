"""`file_lock.machine_lock`: one holder on the machine at a time, whatever the process (ncu runs
under it: a GPU's performance counters serve one profiler at a time)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import tempfile
from pathlib import Path

from kernelwright.tools.file_lock import machine_lock

HOLDER = """
import sys
from kernelwright.tools.file_lock import machine_lock
with machine_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()  # until the test lets go
"""


def _free(name: str) -> bool:
    with open(Path(tempfile.gettempdir()) / f"kernelwright-{name}.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fh, fcntl.LOCK_UN)
        return True


def test_a_lock_held_by_another_process_is_not_free_until_it_lets_go(tmp_path):
    name = f"test-{tmp_path.name}"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not _free(name)
        assert _free(f"{name}-other")  # another name is another lock
    finally:
        holder.communicate("\n", timeout=60)
    assert _free(name)
    with machine_lock(name):
        assert not _free(name)
    assert _free(name)

