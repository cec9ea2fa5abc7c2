"""One trace tree per run: candidate subtrees and tool runs for LangChain callbacks (LangSmith).

LangGraph runs every node as a child of the run's root, with the callbacks of the run's config.
Work a node hands to threads keeps that parent only if the thread gets the node's context:
`ContextThreadPoolExecutor` (langchain-core) copies it into each task. Inside, `candidate_run`
opens a chain run per candidate, so its LLM calls and tool calls nest under it, and `tool_run`
records a deterministic tool (the check) as a tool run with its inputs and verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.runnables.config import ContextThreadPoolExecutor

T = TypeVar("T")
# What a traced run is filed under: problem, role, round, candidate (None: not known here).
Labels = dict[str, str | int | None]

__all__ = ["ContextThreadPoolExecutor", "Labels", "candidate_run", "labels_config", "tool_run"]


def labels_config(name: str, labels: Labels) -> RunnableConfig:
    """A run config: the name, tags `key:value` for round and candidate, the labels as metadata."""
    meta = {k: v for k, v in labels.items() if v is not None}
    return {"run_name": name, "tags": [f"{k}:{meta[k]}" for k in ("round", "candidate") if k in meta], "metadata": meta}


def candidate_run(labels: Labels, work: Callable[[], T]) -> T:
    """`work()` as a chain run "candidate ID" under the current run."""
    name = f"candidate {labels['candidate']}"
    return RunnableLambda(lambda _: work(), name=name).invoke(None, config=labels_config(name, labels))


def tool_run(name: str, labels: Labels, inputs: dict[str, str], work: Callable[[], T], summary: Callable[[T], str]) -> T:
    """`work()` as a tool run `name` under the current run; `summary(result)` is its output."""
    from langchain_core.callbacks import CallbackManager
    from langchain_core.runnables.config import ensure_config, get_callback_manager_for_config

    config = ensure_config(labels_config(name, labels))
    manager: CallbackManager = get_callback_manager_for_config(config)
    run = manager.on_tool_start({"name": name, "description": f"kernelwright {name}"}, str(inputs), name=name, inputs=inputs)
    try:
        result = work()
    except BaseException as exc:
        run.on_tool_error(exc)
        raise
    run.on_tool_end(summary(result))
    return result
