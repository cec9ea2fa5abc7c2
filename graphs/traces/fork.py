"""Fork: a new run that starts from the state right after step N of a recorded run.

    kernelwright run --fork RUN_ID --from-step N [--config F] [--model M] [--max-iters ...]

The state comes from LangGraph's checkpoints (HOME/checkpoints.db, thread id = run id). Each
trace step names the checkpoint written right after it; steps recorded before that column
existed are matched to a checkpoint by time (the first one written after the step started by
the step's node). The fork copies that state into a new thread (the new run id) with
`update_state(..., as_node=<step N's node>)`, so the routing after node N is decided again under
the fork's own budgets, and streams on from there. Its config is the old run's stored config,
the `--config` file merged over it, then the flags. Its trace records `forked_from` and starts
with copies of steps 0..N, so `traces show` lists the shared prefix, then the fork's own steps.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from langchain_core.runnables import RunnableConfig

from kernelwright.agents.records import ForkOrigin
from kernelwright.agents.records.run_state import RunState
from kernelwright.configs import RawConfig, merge, read_config_file
from kernelwright.graphs.traces.records import TraceRun
from kernelwright.graphs.traces.store import TraceStore
from kernelwright.tools.problem import InputError


@dataclasses.dataclass
class ForkPoint:
    run_id: str  # the run forked
    step: int  # its trace step index; the fork starts right after it
    node: str
    started_at: float
    thread_id: str  # the LangGraph thread whose checkpoint holds the state
    checkpoint_id: str | None  # None for steps recorded before checkpoint ids were (found by time)

    def origin(self) -> ForkOrigin:
        return ForkOrigin(run_id=self.run_id, step=self.step)


def fork_point(trace: TraceStore, run_id: str, step: int | None) -> ForkPoint:
    """The validated step to fork after; InputError names the run and how to list runs or steps."""
    if trace.run(run_id) is None:
        raise InputError(f"--fork {run_id}: no such run in {trace.path} (see `kernelwright traces list`)")
    steps = trace.steps(run_id)
    if step is None:
        raise InputError(f"--fork {run_id} needs --from-step N (the step indexes `kernelwright traces show {run_id}` prints)")
    if not steps or not 0 <= step < len(steps):
        have = f"steps 0..{len(steps) - 1}" if steps else "no steps"
        raise InputError(f"--from-step {step}: run {run_id} has {have} (see `kernelwright traces show {run_id}`)")
    row = steps[step]
    if row.error:
        raise InputError(f"--from-step {step}: step {step} ({row.node}) of {run_id} failed, so no state follows it; "
                         f"fork from step {step - 1} to run it again (see `kernelwright traces show {run_id}`)")
    if row.node == "finish":
        raise InputError(f"--from-step {step}: step {step} of {run_id} is its finish, nothing follows it; fork from an earlier step")
    return ForkPoint(run_id, step, row.node, row.started_at, row.checkpoint_thread or run_id, row.checkpoint_id)


def fork_config(run: TraceRun, config_path: str | None, overrides: RawConfig) -> RawConfig:
    """The old run's config, then the file's own keys (not the defaults it would fill in), then the
    flags. The old run's policy holds unless the changes name a policy or a model."""
    changes = merge(read_config_file(config_path) if config_path else {}, overrides)  # validated as a whole by the caller
    base: RawConfig = dict(run.config)
    if "policy" not in changes and "model" not in changes:
        base = pinned_config(run)
    return merge(base, changes)


def _by_time(compiled, point: ForkPoint) -> RunnableConfig | None:
    """The config of the first checkpoint that `point.node` wrote after the step started."""
    history = list(compiled.get_state_history({"configurable": {"thread_id": point.thread_id}}))[::-1]  # oldest first
    for before, after in zip(history, history[1:]):
        written = datetime.fromisoformat(after.created_at).timestamp() if after.created_at else 0.0
        if before.next == (point.node,) and written >= point.started_at:
            return after.config
    return None


def state_at(compiled, point: ForkPoint) -> RunState:
    """The graph state right after the fork point, read from its checkpoint."""
    if point.checkpoint_id:
        config: RunnableConfig | None = {"configurable": {"thread_id": point.thread_id, "checkpoint_ns": "", "checkpoint_id": point.checkpoint_id}}
    else:
        config = _by_time(compiled, point)
    values = compiled.get_state(config).values if config else {}
    if not values:
        raise InputError(f"--fork {point.run_id}: the checkpoint of step {point.step} is not in checkpoints.db "
                         "(was the home's checkpoints.db removed?); fork from a run recorded in this home")
    if point.node not in compiled.get_graph().nodes:
        raise InputError(f"--from-step {point.step}: step {point.step} ran node {point.node!r}, which the fork's config has no role for; "
                         "keep that role in the --config file or fork from another step")
    return RunState(**values)


def seed_fork(compiled, graph_config: RunnableConfig, point: ForkPoint, values: RunState, run_id: str, trace: TraceStore) -> None:
    """Copy the trace prefix and the state into the new run's thread; `stream(None)` goes on from there."""
    trace.copy_steps(point.run_id, run_id, point.step)
    compiled.update_state(graph_config, {**values, "run_id": run_id}, as_node=point.node)


def pinned_config(run: TraceRun) -> RawConfig:
    """A recorded run's config with its policy pinned: "auto" could choose otherwise today (a model
    given by the caller's chat model, or by KERNELWRIGHT_MODEL, then and not now)."""
    return {**run.config, "policy": run.policy}
