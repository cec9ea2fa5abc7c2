"""Opening a memory file and bringing its schema up to date.

Callers may rely on: `connect(path)` returns a sqlite-utils `Database` whose connection has WAL
journal mode (files only) and a busy timeout (kernelwright.tools.sqlite, shared by every file); `migrate(db)`
applies the numbered `MIGRATIONS` that the file's `migrations` table does not list yet, each in
its own write transaction, and is safe to call any number of times from any number of processes;
`write_transaction(db)` takes SQLite's write lock up front (BEGIN IMMEDIATE) so that concurrent
writers queue on the busy timeout instead of failing half-way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlite_utils import Database

from kernelwright.memory.model import now_iso
from kernelwright.tools.sqlite import open_sqlite

FTS_COLUMNS = ("title", "body", "change", "tags", "shape_regime")


def connect(path: str | Path, setup: Callable[[Database], None] | None = None) -> Database:
    """Open (creating if needed) the memory file at `path`, running `setup(db)` under the first-time
    lock; ':memory:' gives a private in-memory DB. The settings (WAL, busy timeout, the lock) are
    every kernelwright file's: tools/sqlite.py."""
    return Database(open_sqlite(path, setup=(lambda conn: setup(Database(conn))) if setup else None))


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception. Nested use becomes a savepoint."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


def _m001_lessons(db: Database) -> None:
    # seq is an explicit INTEGER PRIMARY KEY: the FTS index refers to rows by rowid, and VACUUM
    # may renumber implicit rowids. `id` is the stable public identifier.
    db.table("lessons").create(
        {
            "seq": int, "id": str, "title": str, "body": str, "kind": str, "arch": str,
            "op_family": str, "dtype": str, "shape_regime": str, "change": str, "tags": str,
            "evidence": str, "signature": str, "confidence": float, "applications": int,
            "successes": int, "source": str, "created_at": str, "updated_at": str, "merge_key": str,
        },
        pk="seq",
        not_null={"id", "title", "body", "kind", "arch", "op_family", "dtype", "merge_key"},
        if_not_exists=True,
    )
    lessons = db.table("lessons")
    lessons.create_index(["id"], unique=True, if_not_exists=True)
    lessons.create_index(["merge_key"], unique=True, if_not_exists=True)
    lessons.create_index(["arch", "op_family", "dtype"], if_not_exists=True)


def _m002_fts(db: Database) -> None:
    db.table("lessons").enable_fts(list(FTS_COLUMNS), create_triggers=True, tokenize="porter", replace=True)


def _m003_forgotten(db: Database) -> None:
    # Tombstones: a forgotten seed must not come back when the seeds are loaded again.
    db.table("forgotten").create({"id": str, "merge_key": str, "at": str}, pk="id", if_not_exists=True)


# Append only; never renumber or edit one that has shipped (files in the wild recorded it).
MIGRATIONS: tuple[tuple[int, str, Callable[[Database], None]], ...] = (
    (1, "lessons table", _m001_lessons),
    (2, "full-text index over title, body, change, tags, shape regime (porter)", _m002_fts),
    (3, "tombstones of forgotten lessons", _m003_forgotten),
)


def _ensure_migrations_table(db: Database) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def applied(db: Database) -> set[int]:
    """Numbers of the migrations (and seed loads, which use numbers >= 1000) this file has run."""
    _ensure_migrations_table(db)
    return {row[0] for row in db.execute("SELECT number FROM migrations").fetchall()}


def mark(db: Database, number: int, name: str) -> None:
    """Record that step `number` ran (inside the caller's transaction)."""
    db.execute("INSERT INTO migrations (number, name, applied_at) VALUES (?, ?, ?)", [number, name, now_iso()])


def migrate(db: Database) -> list[int]:
    """Apply the migrations this file lacks; return the numbers applied by this call."""
    done = applied(db)
    ran: list[int] = []
    for number, name, step in MIGRATIONS:
        if number in done:
            continue
        with write_transaction(db):
            # Re-check under the write lock: another process may have run it meanwhile.
            if db.execute("SELECT 1 FROM migrations WHERE number = ?", [number]).fetchone():
                continue
            step(db)
            mark(db, number, name)
        ran.append(number)
    return ran
