"""Lessons to table rows and back (JSON columns for evidence and signature, tags space-joined),
and the SQL conditions of the arch / op family / dtype filters."""

from __future__ import annotations

import json
from typing import Any

from kernelwright.memory.merging import merge_key
from kernelwright.memory.model import Lesson, normalize_arch, normalize_dtype, normalize_op_family
from kernelwright.tools.problem import InputError

COLUMNS = (
    "id", "title", "body", "kind", "arch", "op_family", "dtype", "shape_regime", "change", "tags",
    "evidence", "signature", "confidence", "applications", "successes", "source", "created_at",
    "updated_at", "merge_key",
)


def to_row(lesson: Lesson) -> dict[str, str | int | float | None]:
    """The `lessons` row for a lesson (without `seq`): column -> SQLite value."""
    d = lesson.model_dump(mode="json")
    d["tags"] = " ".join(lesson.tags)
    d["evidence"] = json.dumps(d["evidence"], sort_keys=True)
    d["signature"] = json.dumps(d["signature"], sort_keys=True)
    d["merge_key"] = merge_key(lesson)
    return {k: d[k] for k in COLUMNS}


def from_row(row: dict[str, str | int | float | None]) -> Lesson:
    """The lesson stored in a `lessons` row (extra columns such as `seq` or `rank` ignored)."""
    d = {k: row[k] for k in COLUMNS if k in row and k != "merge_key"}
    d["tags"] = (row.get("tags") or "").split()
    d["evidence"] = json.loads(row.get("evidence") or "{}")
    d["signature"] = json.loads(row.get("signature") or "{}")
    d["shape_regime"] = row.get("shape_regime") or ""
    d["change"] = row.get("change") or ""
    return Lesson.model_validate(d)


def condition_filters(arch: str | None, op_family: str | None, dtype: str | None) -> tuple[list[str], list[Any]]:
    """SQL conditions where a lesson's 'any' matches every requested value."""
    where: list[str] = []
    args: list[Any] = []
    for column, value, norm in (
        ("arch", arch, normalize_arch), ("op_family", op_family, normalize_op_family), ("dtype", dtype, normalize_dtype),
    ):
        if value is None:
            continue
        try:
            v = norm(value)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        if v != "any":
            where.append(f"lessons.{column} IN (?, 'any')")
            args.append(v)
    return where, args
