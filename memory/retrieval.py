"""Finding the lessons that matter for the problem at hand.

`search` combines three signals, each in [0, 1]:

- text: SQLite FTS5 BM25 over title, body, change, tags and shape regime (porter stemming), relative to the
  best match of this query. The user's text never reaches FTS5 as syntax: it is cut into word
  tokens, each double-quoted, OR-ed (plus the phrase of any `tl.sum`-style compound), so dots,
  quotes, parentheses, `-`, `*`, AND/OR/NOT are all just text.
- confidence: the lesson's current confidence.
- metric similarity: how close the current profile (e.g. {"dram_pct": 41, "sm_pct": 12,
  "occupancy_pct": 30, "registers": 128}) is to the lesson's 'before' metrics (its hand-written
  signature for seeds): 1 - RMS of per-metric differences on a common scale (`_scaled`), over
  the shared keys, shrunk toward 0.5 when few keys are shared; 0.5 (no information) when none
  are. A distance, not a cosine: percentages are all positive, so cosines of such vectors sit
  near 1 whatever they are, and a single shared key makes any cosine 1.

Filters on arch, op family and dtype keep lessons whose value is the requested one or 'any'.
Callers may rely on: at most `k` hits, best first, each with its parts; with `token_budget`,
hits are taken in rank order while `render_lesson` of each still fits (tokens ~ chars / 4).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from kernelwright.memory.model import Lesson
from kernelwright.memory.rows import condition_filters, from_row

if TYPE_CHECKING:
    from kernelwright.memory.store import MemoryStore

# BM25 weights of the FTS columns, in schema.FTS_COLUMNS order: title, body, change, tags, shape regime.
COLUMN_WEIGHTS = (4.0, 1.0, 2.0, 3.0, 1.0)
W_TEXT, W_CONFIDENCE, W_METRICS = 0.6, 0.15, 0.25
CANDIDATE_POOL = 60
STOPWORDS = frozenset(
    "a an and are as at be but by do does for from how i in into is it its my of on or should so than "
    "that the their then there these this to too use using via was what when where which while why "
    "with without vs my our we you your".split()
)


@dataclasses.dataclass
class Hit:
    """One retrieved lesson with its combined score and the parts it was made of."""

    lesson: Lesson
    score: float
    text_score: float
    metric_similarity: float | None

    def to_dict(self) -> dict[str, object]:
        """The lesson's JSON object (`Lesson.to_dict`) with the scores added."""
        d = self.lesson.to_dict()
        d.update(score=round(self.score, 4), text_score=round(self.text_score, 4), metric_similarity=self.metric_similarity)
        return d


def fts_query(text: str) -> str | None:
    """A safe FTS5 MATCH expression for free text, or None if it holds no searchable word."""
    terms: list[str] = []
    for chunk in text.split():
        words = [w for w in re.findall(r"\w+", chunk.lower())]
        if len(words) > 1:  # 'tl.sum', 'num_warps=8': also the phrase, which ranks exact uses first
            terms.append(" ".join(words))
        terms.extend(w for w in words if w not in STOPWORDS)
    unique = list(dict.fromkeys(t for t in terms if t))
    if not unique:
        return None
    # Tokens hold only word characters and spaces, so wrapping them in quotes is a complete escape.
    return " OR ".join(f'"{t}"' for t in unique)


def _scaled(key: str, value: float) -> float | None:
    """A metric on a 0..1 scale where one is known; None means compare relatively."""
    if key.endswith("_pct"):
        return min(max(value / 100.0, 0.0), 1.0)
    if key == "registers":
        return min(max(value / 255.0, 0.0), 1.0)
    if key in ("spills", "spill_bytes", "local_bytes"):
        return min(math.log2(1.0 + max(value, 0.0)) / 12.0, 1.0)
    return None


def metric_similarity(current: dict[str, float], profile: dict[str, float]) -> float | None:
    """Similarity in [0, 1] of two metric dicts over their shared numeric keys; None if none."""
    diffs: list[float] = []
    for key, a in current.items():
        b = profile.get(key)
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            continue
        sa, sb = _scaled(key, float(a)), _scaled(key, float(b))
        if sa is None or sb is None:
            diffs.append(abs(a - b) / max(abs(a), abs(b), 1e-9))
        else:
            diffs.append(abs(sa - sb))
    if not diffs:
        return None
    raw = 1.0 - math.sqrt(sum(d * d for d in diffs) / len(diffs))
    shrink = len(diffs) / (len(diffs) + 1.0)
    return 0.5 + (raw - 0.5) * shrink


def render_lesson(lesson: Lesson) -> str:
    """The compact text of a lesson as a prompt shows it (and as the token budget counts it)."""
    head = f"[{lesson.id}] {lesson.title} ({lesson.kind}; {lesson.arch}/{lesson.op_family}/{lesson.dtype}; confidence {lesson.confidence:.2f})"
    lines = [head]
    if lesson.change:
        lines.append(f"change: {lesson.change}")
    if lesson.shape_regime:
        lines.append(f"when: {lesson.shape_regime}")
    lines.append(lesson.body)
    ev = lesson.evidence
    if ev.is_measured():
        bits = []
        if ev.speedup is not None:
            bits.append(f"speedup {ev.speedup:.2f}x" + (f" ± {ev.speedup_spread:.2f}" if ev.speedup_spread is not None else ""))
        if ev.run_id:
            bits.append(f"run {ev.run_id}" + (f" step {ev.step}" if ev.step is not None else ""))
        lines.append("evidence: " + ", ".join(bits or ["measured metrics"]))
    return "\n".join(lines)


def render_hits(hits: list[Hit]) -> str:
    """The lessons of `hits` as one prompt section (blank line between lessons)."""
    return "\n\n".join(render_lesson(h.lesson) for h in hits)


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _candidates(db: Database, match: str | None, where: list[str], args: list[Any], pool: int | None) -> list[dict[str, str | int | float | None]]:
    cond = (" AND " + " AND ".join(where)) if where else ""
    limit = f" LIMIT {int(pool)}" if pool is not None else ""
    if match is None:
        sql = f"SELECT lessons.*, 0.0 AS rank FROM lessons WHERE 1 = 1{cond} ORDER BY confidence DESC{limit}"
        return list(db.query(sql, args))
    weights = ", ".join(str(w) for w in COLUMN_WEIGHTS)
    sql = (
        f"SELECT lessons.*, bm25(lessons_fts, {weights}) AS rank FROM lessons_fts "
        f"JOIN lessons ON lessons.seq = lessons_fts.rowid WHERE lessons_fts MATCH ?{cond} "
        f"ORDER BY rank{limit}"
    )
    return list(db.query(sql, [match, *args]))


def search(
    store: MemoryStore | Database,
    query: str,
    *,
    arch: str | None = None,
    op_family: str | None = None,
    dtype: str | None = None,
    kind: str | None = None,
    metrics: dict[str, float] | None = None,
    k: int = 5,
    token_budget: int | None = None,
) -> list[Hit]:
    """The best `k` lessons for `query` under the filters (see the module docstring).

    An empty query (or one of stop words only) ranks the filtered lessons by confidence and
    metric similarity alone. Raises InputError for an unreadable arch/op family/dtype.
    """
    db = store if isinstance(store, Database) else store.db
    lock = contextlib.nullcontext() if isinstance(store, Database) else store._lock
    where, args = condition_filters(arch, op_family, dtype)
    if kind is not None:
        where.append("lessons.kind = ?")
        args.append(kind)
    match = fts_query(query)
    # Without text, every filtered lesson is a candidate: the metric term may favour any of them.
    pool = None if match is None and metrics else max(CANDIDATE_POOL, 4 * k)
    with lock:
        rows = _candidates(db, match, where, args, pool)
    if not rows:
        return []
    best = min(r["rank"] for r in rows)
    hits: list[Hit] = []
    for row in rows:
        lesson = from_row(row)
        text = (row["rank"] / best) if match is not None and best < 0 else 0.0
        sim = metric_similarity(metrics, lesson.profile()) if metrics else None
        parts = [(W_CONFIDENCE, lesson.confidence)]
        if match is not None:
            parts.append((W_TEXT, text))
        if metrics:
            parts.append((W_METRICS, 0.5 if sim is None else sim))
        score = sum(w * v for w, v in parts) / sum(w for w, _ in parts)
        hits.append(Hit(lesson=lesson, score=score, text_score=text, metric_similarity=sim))
    hits.sort(key=lambda h: (-h.score, h.lesson.id))
    hits = hits[: max(k, 0)]
    if token_budget is None:
        return hits
    kept: list[Hit] = []
    used = 0
    for hit in hits:
        cost = estimate_tokens(render_lesson(hit.lesson)) + 1
        if used + cost > token_budget:
            break
        kept.append(hit)
        used += cost
    return kept


def lesson_source(
    store: MemoryStore,
    *,
    arch: str | None = None,
    op_family: str | None = None,
    dtype: str | None = None,
    metrics: dict[str, float] | None = None,
    k: int = 5,
    token_budget: int | None = None,
) -> Callable[[str], list[str]]:
    """A `query -> rendered lessons` callable with the filters bound (what
    `RunContext.lessons` expects); each string is `render_lesson` of one hit, best first."""

    def lessons(query: str) -> list[str]:
        hits = search(store, query, arch=arch, op_family=op_family, dtype=dtype, metrics=metrics, k=k, token_budget=token_budget)
        return [render_lesson(h.lesson) for h in hits]

    return lessons
