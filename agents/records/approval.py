"""Approvals (`run --approve`): what a person is asked (the interrupt's payload, shown on a
terminal and in LangGraph Studio) and their answer, as the run's log keeps it."""

from __future__ import annotations

from typing import Literal

from kernelwright.agents.records.base import Record


class ApprovalRecord(Record):
    node: str
    round: int
    decision: Literal["approve", "reject", "edit"]
    text: str = ""


class CandidateShown(Record):
    id: str
    source: str


class ApprovalRequest(Record):
    approve: str  # the node whose output waits: "plan" | "code"
    round: int
    answers: str  # the answers accepted, for the person
    plan: str | None = None  # approve == "plan"
    candidates: tuple[CandidateShown, ...] = ()  # approve == "code"
