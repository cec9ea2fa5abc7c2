"""Cross-process locks: the first-time setup of a SQLite file in the home directory
(`setup_lock`), and a resource the machine has once (`machine_lock`).

Switching a fresh file to WAL and creating its tables need exclusive locks that SQLite may refuse
at once ("database is locked") instead of waiting on the busy timeout, when several processes
open the same brand-new file together — two `kernelwright run` (or a bench's workers) on a fresh
home. Holding an OS lock on a sidecar file (`NAME.lock`) around that setup serialises it; what
follows (reads and writes in WAL mode with a busy timeout) is SQLite's own business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock (the tool's GPU targets are Linux)
    fcntl = None


@contextlib.contextmanager
def setup_lock(db_path: str | Path) -> Iterator[None]:
    path = Path(db_path)
    if fcntl is None or str(db_path) == ":memory:":
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def machine_lock(name: str) -> Iterator[None]:
    """One holder at a time on this machine (every process, every home): for a resource the
    machine has once, such as a GPU's performance counters."""
    if fcntl is None:
        yield
        return
    import tempfile

    with open(Path(tempfile.gettempdir()) / f"kernelwright-{name}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
