"""A checked candidate: the verdict and what the check measured, as the state keeps it."""

from __future__ import annotations

from typing import Literal

from kernelwright.agents.records.base import Measurements, Record
from kernelwright.agents.records.candidate import KernelFacts


class Reason(Record):
    check: str  # which guard spoke
    message: str
    verdict: str | None = None  # the verdict this guard gives, where it names one


class CheckFacts(Record):
    """The check's measurements beside the verdict (None where the device measured nothing)."""

    arch: str | None = None
    timing: Measurements | None = None
    roofline: Measurements | None = None
    resources: list[Measurements] | Measurements | None = None  # per kernel, or one record
    launches: list[Measurements] | Measurements | None = None
    wall_s: float | None = None
    isolation: Measurements | None = None  # how the sandbox confined the child (tool, layers)


class LessonOutcome(Record):
    lesson_id: str
    outcome: Literal["held", "did not hold", "not measured", "not tested (failed idea heeded)"]
    confidence: float | None = None


class Attempt(Record):
    candidate_id: str
    parent_id: str | None = None
    iteration: int
    origin: str = "code"
    debug_tries: int = 0
    applied_lessons: tuple[str, ...] = ()
    source_sha: str
    source: str
    verdict: str  # a tools.check Verdict value
    accepted: bool
    reasons: tuple[Reason, ...] = ()
    speedup: dict[str, float | None] | None = None  # against "eager", "compile", ... (None: not timed)
    median_ms: float | None = None
    max_abs_err: float | None = None
    check: CheckFacts = CheckFacts()
    kernel: KernelFacts | None = None  # copied from the candidate
    lesson_outcomes: tuple[LessonOutcome, ...] = ()

    def first_reason(self) -> str:
        return self.reasons[0].message if self.reasons else ""
