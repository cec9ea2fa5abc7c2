"""The latest profile of the best solution, as the state carries it to the analyst.

Field order is the order the analyst's brief lists them: the diagnosis and the roofline first.
"""

from __future__ import annotations

from kernelwright.agents.records.base import Measurements, Record


class Profile(Record):
    candidate_id: str | None = None
    tier: int | str | None = None  # 1 (ncu), 2 (timeline), 3 (static), or "check" (the check's record stands in)
    diagnosis: str | None = None
    roofline: Measurements | None = None
    timing: Measurements | None = None
    metrics: Measurements | None = None
    missing: tuple[str, ...] = ()  # what could not be measured, and why
    resources: list[Measurements] | Measurements | None = None  # per kernel, or one record
    launches: list[Measurements] | Measurements | None = None
    tier_name: str | None = None
    subject: str | None = None  # "solution" | "reference"
    problem: str | None = None
    solution: str | None = None
    device: str | None = None
    gpu: str | None = None
    cost: Measurements | None = None  # the reference's bytes and flops
    versions: dict[str, str | None] | None = None
    wall_s: float | None = None
