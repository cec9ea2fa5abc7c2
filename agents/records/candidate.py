"""A candidate solution waiting for the check, and the facts a role states about it."""

from __future__ import annotations

from kernelwright.agents.records.base import Record


class KernelFacts(Record):
    """What the expert's code generator built (family and knob settings): the debugger reads these
    instead of parsing them back out of the generated file."""

    family: str  # "elementwise", "rows", "matmul", ... (agents/expert/lessons.py TOPICS)
    configs: tuple[dict[str, int | str | bool | None], ...]  # the fields of each agents.expert.configs.Config


class Candidate(Record):
    id: str
    source: str
    parent_id: str | None = None
    origin: str = "code"  # "code" | "debug" | "edited" | a plugin role's name
    iteration: int
    debug_tries: int = 0
    applied_lessons: tuple[str, ...] = ()  # memory lesson ids the role says it acted on
    repair: str | None = None  # what a known repair changed (expert debugger)
    kernel: KernelFacts | None = None
