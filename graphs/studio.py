"""The graph for LangGraph Studio and the LangGraph CLI (`langgraph.json` at the repository root
names `make_graph`, a graph factory).

    langgraph dev          # Studio in the browser, the graph served on 127.0.0.1:2024

Two kinds of settings, as the platform splits them:

- the graph's shape, from the assistant's configuration (`configurable`): `policy` (auto, llm,
  expert), `config_path` (a kernelwright YAML config: roles, budgets, check options; the
  routing reads its budgets, so they belong to the graph) and
  `approve` (nodes that pause for a person, answered from Studio's interrupt panel);
- the run, from the run context (`StudioContext`, a form in Studio, `context=` in the SDK): the
  problem file, the model and endpoint, candidates, device, home.

The input state may be empty: the first node fills the run id (the thread id) and the problem.
Runs served this way write no kernelwright trace (HOME/traces.db): Studio and LangSmith keep
their own; solutions and reports still go to HOME/runs/THREAD_ID/.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kernelwright.agents.context import RunContext
from kernelwright.configs import RawConfig

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

_CACHE: dict[str, RunContext] = {}
_LOCK = threading.Lock()


class StudioContext(BaseModel):
    """What a run needs, as JSON a form can fill (the graph's context schema)."""

    problem: str = Field(description="KernelBench-format problem file (class Model, get_inputs, get_init_inputs)")
    model: str | None = Field(default=None, description="LLM name for the llm policy (else the config's or KERNELWRIGHT_MODEL)")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    candidates: int | None = Field(default=None, ge=1, description="candidates per round")
    device: str | None = Field(default=None, description="auto, cpu, cuda or cuda:N")
    config_path: str | None = Field(default=None, description="kernelwright YAML config merged over the defaults")
    home: str | None = Field(default=None, description="kernelwright home (default $KERNELWRIGHT_HOME or ~/.kernelwright)")

    def overrides(self) -> RawConfig:
        """The config keys this context sets (a layer over the config file, as `run`'s flags are)."""
        out: RawConfig = {k: v for k, v in (("model", self.model), ("base_url", self.base_url), ("candidates", self.candidates)) if v is not None}
        if self.device is not None:
            out["check"] = {"device": self.device}
        return out

    def run_context(self, run_id: str, policy: str | None = None, approve: tuple[str, ...] = ()) -> RunContext:
        """The RunContext the nodes use, built once per run (the model client, memory, budgets)."""
        key = json.dumps([run_id, policy, approve, self.model_dump()], sort_keys=True, default=str)
        with _LOCK:
            if key not in _CACHE:
                _CACHE[key] = self._build(run_id, policy, approve)
            return _CACHE[key]

    def _build(self, run_id: str, policy: str | None, approve: tuple[str, ...]) -> RunContext:
        from kernelwright.agents.registry import resolve_roles
        from kernelwright.configs import load
        from kernelwright.graphs.runner import choose_policy, make_context
        from kernelwright.tools.home import resolve_home
        from kernelwright.tools.problem import load_problem

        flags = {**self.overrides(), **StudioSettings(policy=policy, approve=approve).flags()}
        config = load(self.config_path, flags).config
        roles, added = resolve_roles(choose_policy(config), config.roles, where=self.config_path or "config")
        needs_model = any(spec.source == "built-in (llm)" for spec in [*roles.values(), *added])
        home = resolve_home(self.home)
        problem = load_problem(self.problem).path
        return make_context(config, needs_model, Path(problem), home / "runs" / run_id, home, None)


class StudioSettings(BaseModel):
    """The graph's shape, from the assistant's configuration (`configurable`). The server puts its
    own keys there too (thread_id, checkpoint_ns, langgraph_*, ...): kept where named, else ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    policy: str | None = None  # auto, llm or expert
    config_path: str | None = None
    approve: tuple[str, ...] = ()  # nodes that pause for a person: "plan", "code"
    thread_id: str | None = None  # the server's: the run id

    @field_validator("approve", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):  # `approve: plan,code`, as the config file reads it
            return tuple(part for part in re.split(r"[,\s]+", value) if part)
        return value

    @field_validator("thread_id", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return None if value is None else str(value)  # the server may hand a UUID

    @classmethod
    def of(cls, config: RunnableConfig | None) -> StudioSettings:
        return cls.model_validate((config or {}).get("configurable") or {})

    def flags(self) -> RawConfig:
        """The config keys these settings set (policy auto sets none: the config's choice)."""
        flags: RawConfig = {}
        if self.policy and self.policy != "auto":
            flags["policy"] = self.policy
        if self.approve:
            flags["approve"] = list(self.approve)
        return flags


def make_graph(config: RunnableConfig | None = None):
    """The compiled graph for the LangGraph server (a graph factory: it takes the run's
    RunnableConfig). The server adds its own checkpointer."""
    from kernelwright.agents.context import Budgets
    from kernelwright.agents.registry import require_runnable, resolve_roles
    from kernelwright.configs import load
    from kernelwright.graphs.graph import build_graph
    from kernelwright.graphs.runner import approval_nodes, choose_policy

    settings = StudioSettings.of(config)
    base = load(settings.config_path, settings.flags(), environ={}).config
    roles, added = resolve_roles(choose_policy(base), base.roles, where=settings.config_path or "config")
    require_runnable(roles)
    budgets = Budgets(**base.budgets.model_dump())
    graph = build_graph(roles, added, budgets, approval_nodes(base), context_schema=StudioContext)
    return graph.compile(name="kernelwright")
