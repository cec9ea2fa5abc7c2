"""Run-scoped dependencies: the model, the check settings, budgets and where output goes.

Travels beside the state (`StateGraph(RunState, context_schema=RunContext)`), never inside it:
nothing here is checkpointed, so a resumed run rebuilds it from the same config and flags.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.configs.model import ProfileSettings, RoleOptions
from kernelwright.tools.check.verify import CheckOptions


@dataclasses.dataclass
class Budgets:
    max_iters: int = 3  # plan -> code rounds
    max_debug_tries: int = 2  # debug rounds per failing candidate
    max_tokens: int | None = None  # total LLM tokens in the run
    max_wall_s: float | None = None
    target_speedup: float | None = None  # stop once the best beats eager by this much
    patience: int = 2  # rounds without a new best before stopping
    max_cost_usd: float | None = None  # stop once the run's LLM calls cost this much (needs llm.prices)


@dataclasses.dataclass
class RunContext:
    problem_path: Path
    run_dir: Path
    home: Path
    chat_model: Any = None  # a LangChain BaseChatModel for the llm policy; None for expert roles
    model_name: str | None = None
    candidates: int = 1  # K candidates per round
    budgets: Budgets = dataclasses.field(default_factory=Budgets)
    # The config's `check:` and `sandbox:` sections and the run's reference cache, as graphs.runner
    # builds them (graphs.nodes.check_options adds the home for each check).
    check: CheckOptions = dataclasses.field(default_factory=CheckOptions)
    profile: ProfileSettings = dataclasses.field(default_factory=ProfileSettings)  # the config's `profile:` (tier, budget_s)
    # Each role's `options` from the config: free-form, the role's own keys (prompt_file, concurrency, ...).
    role_options: dict[str, RoleOptions] = dataclasses.field(default_factory=dict)
    lessons: Callable[[str], list[str]] | None = None  # retrieval from the knowledge memory
    memory: Any = None  # the MemoryStore that lessons learned in this run are written to
    progress: Callable[[str], None] | None = None
    structured: Any = None  # agents.structured.StructuredOutput: how answers are asked for (None: text)
    prices: Any = None  # agents.cost.PriceTable: the cost of each LLM call (None: no prices)
    approve: tuple[str, ...] = ()  # nodes whose output waits for a person's approval ("plan", "code")
    started_at: float = dataclasses.field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)
