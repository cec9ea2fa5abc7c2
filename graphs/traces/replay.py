"""Replay: re-execute a recorded run with the LLM's answers served from its trace.

    kernelwright run --replay RUN_ID

No endpoint, no network, no API key: `ReplayChatModel` (a LangChain chat model) answers each
request with the next answer the trace recorded for the same graph node, with the recorded
token usage and model name, and raises `ReplayMismatch` when a node asks for more answers than
the trace holds (the replay left the recorded path, e.g. a changed tool turned a check result
around). The tools (check, profile) run for real, so a replay after a tools change shows what
the change does to the same answers. Role requests are made one at a time (`concurrency` 1),
so they arrive in the order the trace recorded them.

A run with no recorded exchanges (the expert policy, plugin roles without a model) replays by
running again with its stored config. A fork replays as the same fork again: from the same
step of the same origin, with the fork's config and the fork's own answers. The replay is a new
run whose trace records `replay_of`.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from kernelwright.agents.records import Usage
from kernelwright.configs import RawConfig
from kernelwright.configs.model import RoleOptions
from kernelwright.graphs.traces.fork import ForkPoint, fork_point, pinned_config
from kernelwright.graphs.traces.records import StoredJson, TraceRun
from kernelwright.graphs.traces.store import TraceStore
from kernelwright.tools.problem import InputError


class ReplayMismatch(RuntimeError):
    """The replay asked for an exchange that the recorded run does not have."""


class ReplayChatModel(BaseChatModel):
    """Serves recorded answers per graph node, in the recorded order (LangGraph puts the node
    that makes a request into the callback metadata as `langgraph_node`)."""

    source_run: str
    recorded: dict[str, list[StoredJson]]  # node -> llm call records (agents/records/llm_call.py) as stored, in order
    skip: dict[str, int] = {}  # answers already served per node (a resumed replay)
    _served: dict[str, int] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any) -> None:
        self._served = dict(self.skip)

    @property
    def _llm_type(self) -> str:
        return "kernelwright-replay"

    def served(self) -> int:
        return sum(self._served.values())

    def total(self) -> int:
        return sum(len(calls) for calls in self.recorded.values())

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        node = (run_manager.metadata if run_manager else {}).get("langgraph_node")
        if node is None:
            raise ReplayMismatch(f"replay of {self.source_run}: a chat request from outside a graph node (answers are served per node)")
        with self._lock:
            n = self._served.get(node, 0)
            calls = self.recorded.get(node, [])
            if n >= len(calls):
                raise ReplayMismatch(
                    f"replay of {self.source_run}: node {node!r} asks for answer {n + 1}, but the trace recorded {len(calls)} there; "
                    "the replay has left the recorded path (`kernelwright traces diff` shows where)"
                )
            self._served[node] = n + 1
        call = calls[n]  # read as stored (a trace of an older version may carry fields LlmCall no longer has)
        usage = Usage.model_validate({k: v for k, v in (call.get("usage") or {}).items() if k in Usage.model_fields})
        message = AIMessage(
            content=str(call["response"]),
            usage_metadata={"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens,
                            "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens},
            response_metadata={"model_name": call.get("model")},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


@dataclasses.dataclass
class ReplayPlan:
    problem: str
    config: RawConfig  # the recorded run's config, not validated yet
    fork: ForkPoint | None  # set when the recorded run is a fork: the replay forks from the same step
    chat_model: ReplayChatModel | None


def _after(run: TraceRun) -> int:
    """The last inherited step of a fork (its own answers come after it); -1 for other runs."""
    return run.forked_from.step if run.forked_from else -1


def answers_of(trace: TraceStore, run: TraceRun, skip_from: TraceRun | None = None) -> ReplayChatModel | None:
    """The replay model for `run`, or None when it recorded no exchange and needs no model.
    `skip_from`: a replay being resumed, whose recorded answers are already served."""
    recorded = trace.llm_calls_by_node(run.run_id, after=_after(run))
    if not recorded and run.policy != "llm":
        return None
    skip = {node: len(calls) for node, calls in trace.llm_calls_by_node(skip_from.run_id, after=_after(skip_from)).items()} if skip_from else {}
    return ReplayChatModel(source_run=run.run_id, recorded=recorded, skip=skip)


def replay_plan(trace: TraceStore, run_id: str) -> ReplayPlan:
    run = trace.run(run_id)
    if run is None:
        raise InputError(f"--replay {run_id}: no such run in {trace.path} (see `kernelwright traces list`)")
    fork = fork_point(trace, run.forked_from.run_id, run.forked_from.step) if run.forked_from else None
    return ReplayPlan(run.problem, pinned_config(run), fork, answers_of(trace, run))


def one_request_at_a_time(role_options: dict[str, RoleOptions], role_names: list[str]) -> dict[str, RoleOptions]:
    """Role options with `concurrency` 1 for every role: requests then come in the recorded order."""
    return {**role_options, **{name: {**role_options.get(name, {}), "concurrency": 1} for name in role_names}}
