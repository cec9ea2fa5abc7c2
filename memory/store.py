"""The knowledge memory: one SQLite file of lessons, shared safely by concurrent runs.

Callers may rely on:
- `MemoryStore(path)` opens or creates the file, applies the schema migrations and, the first
  time a file sees a given version of the packaged seeds, loads them (forgotten seeds stay
  forgotten). `MemoryStore.in_home(home)` uses HOME/memory.db.
- Every write is one short BEGIN IMMEDIATE transaction; with WAL and the busy timeout, several
  processes may write the same file at once and nothing is lost.
- `add` merges a lesson into an existing one with the same `merge_key` (arch, op family,
  dtype, normalised change) instead of adding a row; see `merging` for the rules.
- Unknown ids raise `UnknownLessonError` (an `InputError`: the CLI maps it to exit code 2).
- One store may be shared by threads (calls are serialised); processes open their own.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import ValidationError

from kernelwright.memory import schema
from kernelwright.memory.merging import apply_outcome, merge_key, merge_lessons
from kernelwright.memory.model import Evidence, Lesson, Source, now_iso
from kernelwright.memory.rows import condition_filters, from_row, to_row
from kernelwright.memory.seed_lessons import load_seed_file, seed_version
from kernelwright.tools.problem import InputError

if TYPE_CHECKING:
    from kernelwright.memory.retrieval import Hit

MEMORY_FILE = "memory.db"
# Seed loads are recorded in the migrations table as SEED_STEP_BASE + seed file version.
SEED_STEP_BASE = 1000


class UnknownLessonError(InputError, KeyError):
    """No lesson has this id."""

    def __str__(self) -> str:  # KeyError would print the repr
        return str(self.args[0]) if self.args else "unknown lesson"


@dataclasses.dataclass
class ImportSummary:
    """What `import_jsonl` did with each record."""

    added: int = 0
    merged: int = 0
    replaced: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _new_id() -> str:
    return uuid.uuid4().hex[:10]


class MemoryStore:
    """A memory file opened for reading and writing. Use as a context manager or call close()."""

    def __init__(self, path: str | Path, *, seed: bool = True) -> None:
        self.path = path
        self._lock = threading.RLock()

        def setup(db) -> None:  # under the first-time lock (tools/sqlite.py): two runs opening a fresh home at once
            self.db = db
            schema.migrate(db)
            if seed:
                self.load_seeds()

        self.db = schema.connect(path, setup=setup)

    @classmethod
    def in_home(cls, home: str | Path, *, seed: bool = True) -> MemoryStore:
        """The store at HOME/memory.db, creating the home directory if needed."""
        home = Path(home)
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create home directory {home}: {exc.strerror}") from exc
        return cls(home / MEMORY_FILE, seed=seed)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def _row_by(self, column: str, value: str) -> dict[str, str | int | float | None] | None:
        rows = builtins.list(self.db.table("lessons").rows_where(f"{column} = ?", [value], limit=1))
        return rows[0] if rows else None

    def get(self, lesson_id: str) -> Lesson:
        """The lesson with this id, or UnknownLessonError."""
        with self._lock:
            row = self._row_by("id", lesson_id)
        if row is None:
            raise UnknownLessonError(f"no lesson with id {lesson_id!r} (see `kernelwright memory list`)")
        return from_row(row)

    def count(self) -> int:
        with self._lock:
            return self.db.table("lessons").count

    def list(
        self,
        *,
        arch: str | None = None,
        op_family: str | None = None,
        dtype: str | None = None,
        kind: str | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Lesson]:
        """Lessons matching the filters (a lesson whose arch/op_family/dtype is 'any' matches
        every value), most recently updated first."""
        where, args = condition_filters(arch, op_family, dtype)
        for column, value in (("kind", kind), ("source", source)):
            if value is not None:
                where.append(f"lessons.{column} = ?")
                args.append(value)
        sql = "SELECT * FROM lessons"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY updated_at DESC, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = builtins.list(self.db.query(sql, args))
        return [from_row(r) for r in rows]

    def search(self, query: str, **kwargs: Any) -> builtins.list[Hit]:
        """`kernelwright.memory.retrieval.search` on this store."""
        from kernelwright.memory.retrieval import search

        return search(self, query, **kwargs)

    # -- writing -------------------------------------------------------------------------------

    def _insert(self, lesson: Lesson) -> Lesson:
        stamp = now_iso()
        lesson = lesson.model_copy(
            update={"created_at": lesson.created_at or stamp, "updated_at": lesson.updated_at or stamp}
        )
        self.db.table("lessons").insert(to_row(lesson))
        return lesson

    def _update(self, lesson: Lesson) -> None:
        row = to_row(lesson)
        cols = [c for c in row if c != "id"]
        self.db.execute(
            f"UPDATE lessons SET {', '.join(f'[{c}] = ?' for c in cols)} WHERE id = ?",
            [row[c] for c in cols] + [lesson.id],
        )

    def _add_in_tx(self, lesson: Lesson) -> tuple[Lesson, bool]:
        existing = self._row_by("merge_key", merge_key(lesson))
        if existing is not None:
            merged = merge_lessons(from_row(existing), lesson)
            self._update(merged)
            return merged, True
        if not lesson.id or self._row_by("id", lesson.id) is not None:
            lesson = lesson.model_copy(update={"id": _new_id()})
        return self._insert(lesson), False

    def add_or_merge(self, lesson: Lesson) -> tuple[Lesson, bool]:
        """Add `lesson`, or merge it into the lesson with the same merge key.

        Returns the stored lesson and whether it was a merge. A fresh id is assigned when the
        lesson has none or its id is taken.
        """
        with self._lock, schema.write_transaction(self.db):
            return self._add_in_tx(lesson)

    def add(self, lesson: Lesson) -> Lesson:
        """Add or merge (see `add_or_merge`); return the stored lesson with its id."""
        return self.add_or_merge(lesson)[0]

    def add_lesson(
        self,
        title: str,
        body: str,
        *,
        kind: str = "optimization",
        arch: str = "any",
        op_family: str = "any",
        dtype: str = "any",
        shape_regime: str = "",
        change: str = "",
        tags: Iterable[str] = (),
        evidence: Evidence | None = None,
        signature: dict[str, float] | None = None,
        confidence: float = 0.5,
        source: Source = "learned",
    ) -> Lesson:
        """Build a lesson from keyword fields (what an analyst or debugger role calls with the
        evidence of a run: metrics_before/after, speedup, speedup_spread, run_id, step,
        versions) and `add` it. Raises pydantic's ValidationError for invalid fields."""
        lesson = Lesson(
            title=title, body=body, kind=kind, arch=arch, op_family=op_family, dtype=dtype,
            shape_regime=shape_regime, change=change, tags=builtins.list(tags),
            evidence=evidence if evidence is not None else Evidence(), signature=signature or {},
            confidence=confidence, source=source,
        )
        return self.add(lesson)

    def record_outcome(
        self, lesson_id: str, improved: bool,
        evidence: Evidence | None = None,
    ) -> Lesson:
        """Record that a run applied this lesson and whether its change `improved` the measured
        figure; confidence moves by the Beta rule in `merging` (down for an idea that failed,
        up for one that held; inverted for failed-idea lessons). Returns the updated lesson."""
        with self._lock, schema.write_transaction(self.db):
            row = self._row_by("id", lesson_id)
            if row is None:
                raise UnknownLessonError(f"no lesson with id {lesson_id!r}")
            updated = apply_outcome(from_row(row), improved, evidence)
            self._update(updated)
        return updated

    def forget(self, lesson_id: str) -> Lesson:
        """Delete a lesson and remember that it was forgotten (seeds do not come back).
        Returns what was deleted."""
        with self._lock, schema.write_transaction(self.db):
            row = self._row_by("id", lesson_id)
            if row is None:
                raise UnknownLessonError(f"no lesson with id {lesson_id!r} (see `kernelwright memory list`)")
            self.db.execute("DELETE FROM lessons WHERE id = ?", [lesson_id])
            self.db.table("forgotten").upsert({"id": lesson_id, "merge_key": row["merge_key"], "at": now_iso()}, pk="id")
        return from_row(row)

    def load_seeds(self) -> int:
        """Load the packaged seeds unless this file already loaded this seed version; returns how
        many lessons were added or merged (0 when already loaded)."""
        step = SEED_STEP_BASE + seed_version()
        if step in schema.applied(self.db):
            return 0
        version, seeds = load_seed_file()
        loaded = 0
        with self._lock, schema.write_transaction(self.db):
            if self.db.execute("SELECT 1 FROM migrations WHERE number = ?", [step]).fetchone():
                return 0
            forgotten_ids = {r[0] for r in self.db.execute("SELECT id FROM forgotten")}
            forgotten_keys = {r[0] for r in self.db.execute("SELECT merge_key FROM forgotten")}
            for lesson in seeds:
                if lesson.id in forgotten_ids or merge_key(lesson) in forgotten_keys:
                    continue
                if self._row_by("id", lesson.id) is not None:
                    continue  # an earlier seed version put it there; keep its track record
                self._add_in_tx(lesson)
                loaded += 1
            schema.mark(self.db, step, f"seed lessons v{version}")
        return loaded

    # -- sharing -------------------------------------------------------------------------------

    def export_jsonl(self, fh: IO[str]) -> int:
        """Write every lesson as one JSON object per line (oldest first); return the count."""
        with self._lock:
            rows = builtins.list(self.db.query("SELECT * FROM lessons ORDER BY seq"))
        for row in rows:
            fh.write(json.dumps(from_row(row).to_dict(), sort_keys=True) + "\n")
        return len(rows)

    def import_jsonl(self, fh: IO[str], *, name: str = "input") -> ImportSummary:
        """Read lessons written by `export_jsonl` (or one JSON object {"lessons": [...]}) and
        merge them in, all or nothing. A lesson whose id exists here replaces it when its track
        record is longer (more applications, then more history entries, then a later
        `updated_at`) and is skipped otherwise; other lessons are added or merged by merge key.
        Malformed input raises InputError naming the line; nothing is written then."""
        lessons = _parse_lessons(fh.read(), name)
        summary = ImportSummary()
        with self._lock, schema.write_transaction(self.db):
            for lesson in lessons:
                current = self._row_by("id", lesson.id) if lesson.id else None
                if current is not None:
                    if _track_record(lesson) <= _track_record(from_row(current)):
                        summary.unchanged += 1
                        continue
                    self.db.execute("DELETE FROM lessons WHERE id = ?", [lesson.id])
                    _, merged = self._add_in_tx(lesson)
                    summary.merged += merged
                    summary.replaced += not merged
                    continue
                _, merged = self._add_in_tx(lesson)
                summary.merged += merged
                summary.added += not merged
        return summary


def _track_record(lesson: Lesson) -> tuple[int, int, str]:
    return lesson.applications, len(lesson.evidence.history), lesson.updated_at


def _parse_lessons(text: str, name: str) -> builtins.list[Lesson]:
    stripped = text.strip()
    records: builtins.list[tuple[int, Any]] = []
    try:
        whole = json.loads(stripped) if stripped.startswith("{") else None
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("lessons"), builtins.list):
        records = [(i + 1, r) for i, r in enumerate(whole["lessons"])]
    else:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise InputError(f"{name} line {lineno} is not JSON: {exc.msg}") from exc
    lessons = []
    for where, record in records:
        if not isinstance(record, dict):
            raise InputError(f"{name} record {where} is not a JSON object")
        try:
            lessons.append(Lesson.model_validate(record))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "lesson"
            raise InputError(f"{name} record {where}: {field}: {first['msg'].removeprefix('Value error, ')}") from exc
    return lessons
