"""The run's report (`report.json` in the run folder), and the summary of its best attempt."""

from __future__ import annotations

from typing import Literal

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
    schema_version: int = SCHEMA_VERSION
    run_id: str | None
    problem: str | None
    status: Literal["finished"] = "finished"
    accepted: bool
    stop_reason: str
    iterations: int
    best: BestSummary | None
    attempts: tuple[AttemptSummary, ...] = ()
    usage: RunUsage
