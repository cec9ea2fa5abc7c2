"""The problem a run works on, as the state carries it."""

from __future__ import annotations

from kernelwright.agents.records.base import Record


class ProblemSummary(Record):
    path: str
    name: str
    source: str  # the reference program's text, as the roles read it
    constants: dict[str, int | float | bool | str] = {}  # module-level size constants (N = 4096, ...)
