"""The state of one run, as LangGraph checkpoints it and the roles read it: typed records.

Logs that only grow (`attempts`, `llm_calls`, `debugged`, `lessons`, `approvals`) have the
`appended` reducer; every other field keeps the last value written. A node's update passes
`validated_update` before it reaches the graph: a role (built-in or plugin) may return plain
dicts, and they become records there, so a misspelt key fails in the node that wrote it.
The checkpointer stores the records as pydantic models (`CHECKPOINT_TYPES` lets them back in).
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from kernelwright.agents.records import (
    ApprovalRecord,
    Attempt,
    Candidate,
    CheckFacts,
    KernelFacts,
    LessonOutcome,
    LlmCall,
    Message,
    NextStep,
    Plan,
    ProblemSummary,
    Profile,
    ProposedLesson,
    Reason,
    StepKind,
    Usage,
)

T = TypeVar("T")


def appended(old: list[T], new: list[T]) -> list[T]:
    """The reducer of the logs: a node's items go after the ones already there."""
    return [*old, *new]


class RunState(TypedDict, total=False):
    __pydantic_config__ = ConfigDict(extra="forbid")  # an update naming no field of the state is an error

    run_id: str
    problem: ProblemSummary
    iteration: int  # rounds of plan -> code started so far
    plan: Plan | None
    analysis: str | None
    pending: list[Candidate]  # candidates waiting for the check node
    attempts: Annotated[list[Attempt], appended]
    llm_calls: Annotated[list[LlmCall], appended]
    debugged: Annotated[list[str], appended]  # candidate ids already handed to the debugger
    lessons: Annotated[list[ProposedLesson], appended]  # lessons the analyst proposes
    best: Attempt | None  # the best accepted attempt so far (never replaced by a slower one)
    best_iteration: int  # the round in which `best` last improved (progress is measured against it)
    elapsed_s: float  # seconds spent inside nodes, summed (the wall-time budget; survives resume)
    profile: Profile | None  # the latest profile of the best solution
    status: Literal["running", "finished", "failed"]
    stop_reason: str | None
    user_stop: str | None  # why a person stopped the run at an approval (`run --approve`)
    approvals: Annotated[list[ApprovalRecord], appended]


_UPDATE = TypeAdapter(RunState)


def validated_update(update: dict[str, object]) -> RunState:
    """A node's update as records (dicts from plugin roles become records; records pass as they are).
    Raises pydantic's ValidationError naming the field for anything that is not a record's shape."""
    return _UPDATE.validate_python(update)


# (module, name) of every type the checkpoint holds, for the checkpointer's msgpack allowlist.
CHECKPOINT_TYPES: tuple[tuple[str, str], ...] = tuple(
    (t.__module__, t.__name__)
    for t in (ProblemSummary, Plan, NextStep, StepKind, Candidate, KernelFacts, Attempt, Reason, CheckFacts, LessonOutcome,
              LlmCall, Message, Usage, ProposedLesson, ApprovalRecord, Profile)
)
