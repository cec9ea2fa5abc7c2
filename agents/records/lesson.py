"""A lesson the analyst proposes for the knowledge memory."""

from __future__ import annotations

from kernelwright.agents.records.base import Record


class ProposedLesson(Record):
    title: str
    body: str
