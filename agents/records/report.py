"""The run's report (`report.json` in the run folder), the summary `run --json` prints, and the
summary of the best attempt both show."""

from __future__ import annotations

from typing import Literal

from pydantic import SerializerFunctionWrapHandler, model_serializer

from kernelwright.agents.records.approval import ApprovalRequest
from kernelwright.agents.records.base import SCHEMA_VERSION, Record


class BestSummary(Record):
    candidate_id: str
    verdict: str
    speedup: dict[str, float | None] | None = None
    median_ms: float | None = None
    max_abs_err: float | None = None
    pct_of_sol: float | None = None


class AttemptSummary(Record):
    candidate_id: str
    parent_id: str | None = None
    iteration: int
    origin: str
    verdict: str
    speedup: dict[str, float | None] | None = None
    median_ms: float | None = None


class RunUsage(Record):
    total_tokens: int = 0
    cost_usd: float | None = None
    llm_calls: int = 0


class Report(Record):
    """A finished run's report (written by the finish node), or a failed run's (written by the
    runner when an error ended it: `error` says what, `stop_reason` is what the budgets said)."""

    schema_version: int = SCHEMA_VERSION
    run_id: str | None
    problem: str | None
    status: Literal["finished", "failed"] = "finished"
    accepted: bool
    stop_reason: str | None
    error: str | None = None
    iterations: int
    best: BestSummary | None
    attempts: tuple[AttemptSummary, ...] = ()
    usage: RunUsage


class TokenUsage(Record):
    """Tokens summed over a run's LLM calls, and their cost where a price was known."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None

    @model_serializer(mode="wrap")
    def _no_unknown_cost(self, handler: SerializerFunctionWrapHandler) -> dict[str, int | float]:
        # No key rather than null when no call had a price: the JSON `run --json` printed before.
        out = handler(self)
        if out.get("cost_usd") is None:
            out.pop("cost_usd", None)
        return out


class ForkOrigin(Record):
    run_id: str
    step: int


class ReplayCount(Record):
    of: str  # the run whose recorded answers were served
    answers_served: int
    answers_recorded: int


class RunSummary(Record):
    """What `kernelwright run --json` prints (and `execute` returns)."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    status: Literal["running", "finished", "failed", "paused"]
    accepted: bool
    solution_path: str | None
    best: BestSummary | None
    usage: TokenUsage
    stop_reason: str | None
    error: str | None
    run_dir: str
    forked_from: ForkOrigin | None = None
    replay: ReplayCount | None = None
    awaiting: ApprovalRequest | None = None  # status "paused": what waits for a person's approval
