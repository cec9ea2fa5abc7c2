"""The state of one run, as LangGraph checkpoints it.

Plain JSON-able dicts and lists only, so the SQLite checkpointer stores it without custom types.
Append-only logs (`attempts`, `llm_calls`, `events`) have the `operator.add` reducer; everything
else is last-value. Shapes of the nested records:

- candidate: {"id", "source", "parent_id" | None, "origin": "code" | "debug" | <plugin role>,
  "iteration", "debug_tries"}
- attempt: {"candidate_id", "parent_id", "iteration", "origin", "debug_tries", "source_sha", "verdict",
  "accepted", "reasons": [{"check", "message"}], "speedup": {...} | None, "median_ms" | None,
  "max_abs_err", "source"}
- llm call: {"role", "model", "messages": [{"role", "content"}], "response", "usage":
  {"prompt_tokens", "completion_tokens", "total_tokens"}, "cost_usd" | None, "latency_s", "attempt": n,
  "answer_format": "json_schema" | "tool" | "text", "missing": [what the answer lacked], "round", "candidate"}
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from typing_extensions import TypedDict


class RunState(TypedDict, total=False):
    run_id: str
    problem: dict[str, Any]  # {"path", "name", "source", "constants"}
    iteration: int  # rounds of plan -> code started so far
    plan: str | None
    analysis: str | None
    pending: list[dict[str, Any]]  # candidates waiting for the check node
    attempts: Annotated[list[dict[str, Any]], operator.add]
    llm_calls: Annotated[list[dict[str, Any]], operator.add]
    debugged: Annotated[list[str], operator.add]  # candidate ids already handed to the debugger
    lessons: Annotated[list[dict[str, Any]], operator.add]  # {"title", "body"} the analyst proposes
    best: dict[str, Any] | None  # the best accepted attempt so far (never replaced by a slower one)
    best_iteration: int  # the round in which `best` last improved (progress is measured against it)
    elapsed_s: float  # seconds spent inside nodes, summed (the wall-time budget; survives resume)
    profile: dict[str, Any] | None  # the latest profile of the best solution
    status: str  # "running" | "finished" | "failed"
    stop_reason: str | None
    user_stop: str | None  # why a person stopped the run at an approval (`run --approve`)
    approvals: Annotated[list[dict[str, Any]], operator.add]  # {"node", "round", "decision", "text"}
