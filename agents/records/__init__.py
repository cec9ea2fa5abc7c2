"""The typed records a run is made of: what the state holds, what roles return, what the run
reports. One module per record; `RECORDS` lists those whose JSON schemas docs/schemas/ holds."""

from __future__ import annotations

from kernelwright.agents.records.approval import ApprovalRecord, ApprovalRequest, CandidateShown
from kernelwright.agents.records.attempt import Attempt, CheckFacts, LessonOutcome, Reason
from kernelwright.agents.records.base import SCHEMA_VERSION, Measurements, Record
from kernelwright.agents.records.candidate import Candidate, KernelFacts
from kernelwright.agents.records.lesson import ProposedLesson
from kernelwright.agents.records.llm_call import LlmCall, Message, Usage
from kernelwright.agents.records.plan import NextStep, Plan, StepKind
from kernelwright.agents.records.problem import ProblemSummary
from kernelwright.agents.records.profile import Profile
from kernelwright.agents.records.report import (
    AttemptSummary,
    BestSummary,
    ForkOrigin,
    ReplayCount,
    Report,
    RunSummary,
    RunUsage,
    TokenUsage,
)

RECORDS: tuple[type[Record], ...] = (ProblemSummary, Candidate, Attempt, Plan, ProposedLesson, LlmCall, ApprovalRecord, ApprovalRequest,
                                     Profile, Report, RunSummary)

__all__ = [
    "RECORDS", "SCHEMA_VERSION", "ApprovalRecord", "ApprovalRequest", "Attempt", "AttemptSummary", "BestSummary", "Candidate",
    "CandidateShown", "CheckFacts", "ForkOrigin", "KernelFacts", "LessonOutcome", "LlmCall", "Measurements", "Message", "NextStep",
    "Plan", "ProblemSummary", "Profile", "ProposedLesson", "Reason", "Record", "ReplayCount", "Report", "RunSummary", "RunUsage",
    "StepKind", "TokenUsage", "Usage",
]
