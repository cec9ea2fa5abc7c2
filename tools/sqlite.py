"""The one way kernelwright opens its SQLite files (traces.db, checkpoints.db, memory.db).

Every file gets the same settings: a connection usable from the run's worker threads (each store
serialises its own use), a busy timeout so that concurrent writers (a bench's workers, two runs
on one home) queue instead of failing, and WAL journal mode with `synchronous=NORMAL` (readers
never block the writer; durable at each checkpoint). The first-time setup of a file (the WAL
switch and the caller's tables) runs under a cross-process lock (tools/file_lock.py): SQLite
refuses those exclusive locks at once, instead of waiting, when two processes open a brand-new
file together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from kernelwright.tools.file_lock import setup_lock

BUSY_TIMEOUT_S = 30.0
IN_MEMORY = ":memory:"


def open_sqlite(path: str | Path, setup: Callable[[sqlite3.Connection], None] | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the SQLite file at `path` with the settings above, then run
    `setup(conn)` (creating tables, migrating) under the setup lock. ':memory:' gives a private
    in-memory database (no WAL, no lock)."""
    target = str(path)
    if target != IN_MEMORY:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    if target == IN_MEMORY:
        if setup:
            setup(conn)
        return conn
    try:
        with setup_lock(target):
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if setup:
                setup(conn)
    except OSError as exc:  # the lock file cannot be made (a read-only home): SQLite's kind of error, for callers
        conn.close()
        raise sqlite3.OperationalError(f"cannot create {exc.filename}: {exc.strerror}") from None
    return conn
