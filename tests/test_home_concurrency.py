"""Several processes opening one fresh home at the same moment (two `kernelwright run`, a bench's
workers): each SQLite file's first-time setup is serialised (tools/file_lock.py). Before, 17 of 24
such processes failed with "database is locked" on traces.db's CREATE TABLE."""

from __future__ import annotations

import subprocess
import sys
import time

OPEN_HOME = """
import os, sys, time
from pathlib import Path
from kernelwright.graphs.runner import _checkpointer
from kernelwright.graphs.traces.store import TraceStore
from kernelwright.memory.store import MemoryStore
home = Path(sys.argv[1])
(home / f"ready-{os.getpid()}").touch()
while not (home / "go").exists():
    time.sleep(0.0005)
TraceStore(home / "traces.db")
_checkpointer(home)
MemoryStore.in_home(home).close()
"""


def test_processes_opening_a_fresh_home_together_all_succeed(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_HOME, str(tmp_path)], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < len(procs) and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()  # all imports done: they open the three files at the same moment
    errors = []
    for p in procs:
        _, err = p.communicate(timeout=120)
        if p.returncode:
            errors.append(err.strip().splitlines()[-1])
    assert errors == []
