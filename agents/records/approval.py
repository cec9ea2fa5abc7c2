"""A person's answer at an approval, as the run's log keeps it (`run --approve`)."""

from __future__ import annotations

from typing import Literal

from kernelwright.agents.records.base import Record


class ApprovalRecord(Record):
    node: str
    round: int
    decision: Literal["approve", "reject", "edit"]
    text: str = ""
