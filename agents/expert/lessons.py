"""Lessons from the knowledge memory that the expert can act on.

A lesson applies when its conditions hold here — architecture, op family and dtype (the store's
filters: equal or 'any') and its `shape_regime`, read as clauses like `M, N, K >= 1024` or
`numel >= 1M` over the problem's sizes — and its `change` states knobs the family understands
(`BLOCK_M=128 BLOCK_N=128 BLOCK_K=64 num_warps=8 num_stages=3`; several configs separated by
`;`). A lesson whose regime or change cannot be read is advice for an LLM, not for the expert.
`failed-idea` lessons name configs to leave out. Lessons whose track record has pushed their
confidence below MIN_CONFIDENCE are not applied. A lesson learned by a run (the plan's NEXT line
names the configs a round tried, see graphs/learning.py) carries no shape regime: it holds for
the problem it was learned on (its tags name it), not for every problem of its family.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from kernelwright.agents.expert.configs import Config, Sizes, parse_knobs
from kernelwright.memory.model import Lesson

MIN_CONFIDENCE = 0.35
TOPICS = {"elementwise": ("elementwise",), "rows": ("row-reduction", "norm"), "cols": ("reduction", "norm"), "scan": ("scan",), "pool": ("pooling",),
          "matmul": ("matmul",), "conv": ("conv",)}
_CLAUSE = re.compile(r"((?:[A-Za-z_]+\s*,\s*)*[A-Za-z_]+)\s*(>=|<=|==|>|<)\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?![\w.])")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_OPS = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
        ">": lambda a, b: a > b, "<": lambda a, b: a < b}


@dataclasses.dataclass(frozen=True)
class UsableLesson:
    id: str
    title: str
    kind: str
    confidence: float
    configs: tuple[Config, ...]

    def line(self) -> str:
        return f"[{self.id}] {self.title}"


def regime_holds(regime: str, values: dict[str, int]) -> bool | None:
    """True/False when every clause of `regime` can be read and checked against `values`
    (an empty regime always holds); None when it is free text."""
    text = (regime or "").strip()
    if not text:
        return True
    clauses = list(_CLAUSE.finditer(text))
    rest = _CLAUSE.sub(" ", text)
    if not clauses or re.search(r"[A-Za-z0-9]", re.sub(r"\band\b", " ", rest)):
        return None
    for m in clauses:
        bound = float(m.group(3)) * _UNITS[m.group(4).lower()]
        for name in (n.strip() for n in m.group(1).split(",")):
            if name not in values:
                return None
            if not _OPS[m.group(2)](values[name], bound):
                return False
    return True


def lesson_holds(lesson: Any, sizes: Sizes, problem: str | None) -> bool:
    if not (lesson.shape_regime or "").strip() and lesson.source == "learned":
        return bool(problem) and problem.lower() in lesson.tags
    return regime_holds(lesson.shape_regime, sizes.values()) is True


def usable_lessons(memory: Any, family: str, arch: str, dtype: str, sizes: Sizes,
                   problem: str | None = None) -> tuple[list[UsableLesson], list[UsableLesson]]:
    """(lessons to apply, failed ideas to avoid), most confident first. Never raises: the memory is
    advice, and a broken store must not stop a run."""
    if memory is None:
        return [], []
    found: dict[str, Lesson] = {}
    query = f"{family} triton BLOCK num_warps num_stages tile"
    for topic in TOPICS[family]:
        try:
            hits = memory.search(query, arch=arch, op_family=topic, dtype=dtype, k=30)
        except Exception:  # noqa: BLE001 - see the docstring
            continue
        for h in hits:
            found.setdefault(h.lesson.id, h.lesson)
    apply, avoid = [], []
    for lesson in sorted(found.values(), key=lambda x: (-x.confidence, x.id)):
        configs = parse_knobs(lesson.change or "", family)
        if not configs or not lesson_holds(lesson, sizes, problem):
            continue
        usable = UsableLesson(lesson.id, lesson.title, lesson.kind, lesson.confidence, tuple(configs))
        if lesson.kind == "failed-idea":
            avoid.append(usable)
        elif lesson.kind == "optimization" and lesson.confidence >= MIN_CONFIDENCE:
            apply.append(usable)
    return apply, avoid
