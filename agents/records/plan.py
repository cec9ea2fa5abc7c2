"""A round's plan: the text people and prompts read, and the next step as fields.

The learning code files a measured change under `next_step.change`; the expert reads its knob
lines back (agents/expert/lessons.py). Nothing parses the prose for them.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from pydantic import model_validator

from kernelwright.agents.records.base import Record


class StepKind(str, enum.Enum):
    TRY_CONFIGS = "try_configs"  # the expert tries these knob settings in a named space
    NOTHING_NEW = "nothing_new"  # every planned configuration was tried: no candidate this round
    UNSUPPORTED = "unsupported"  # the problem has operations without a kernel: the run fails
    FREE_TEXT = "free_text"  # an LLM planner's NEXT section (prose)


class NextStep(Record):
    kind: StepKind
    change: str  # the change this round makes, as a lesson files it
    space: str | None = None  # the expert's named search space
    reason: str | None = None  # why this space was chosen
    configs: tuple[str, ...] = ()  # knob lines, e.g. "BLOCK=1024 num_warps=4"


_NEXT_LINE = re.compile(r"NEXT:\s*(.+)")


class Plan(Record):
    text: str  # STRATEGY / NEXT / EXPECTED ..., for people and prompts
    next_step: NextStep | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        # A plugin role or a person's edit gives the plan as plain text: its NEXT line, if it has
        # one, is read here, once, into the record.
        return cls.from_text(value).model_dump() if isinstance(value, str) else value

    @classmethod
    def from_text(cls, text: str) -> Plan:
        match = _NEXT_LINE.search(text)
        step = NextStep(kind=StepKind.FREE_TEXT, change=match.group(1).strip()) if match and match.group(1).strip() else None
        return cls.model_construct(text=text, next_step=step)

