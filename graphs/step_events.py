"""The events a node writes to LangGraph's custom stream as it runs (graphs/nodes.py `timed`), and
the runner turns into trace steps (graphs/runner.py `_stream`): its start, its end, or its error."""

from __future__ import annotations

import dataclasses

from kernelwright.graphs.traces.records import StoredJson


@dataclasses.dataclass(frozen=True)
class StepStart:
    node: str
    role: str | None
    started_at: float  # wall-clock time


@dataclasses.dataclass(frozen=True)
class StepEnd:
    node: str
    role: str | None
    duration_s: float


@dataclasses.dataclass(frozen=True)
class StepError:
    node: str
    role: str | None
    error: str  # "ExcType: message"
    duration_s: float
    llm_calls: list[StoredJson]  # a failed LLM role's exchanges (they still spent tokens)


StepEvent = StepStart | StepEnd | StepError
