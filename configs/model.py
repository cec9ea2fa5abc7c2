"""The configuration's schema: every key a YAML config (or a flag) may set, its type, range and default.

This model is the one place the defaults live; `configs/default.yaml` is their commented copy
(tests/test_config_model.py fails when the two differ). Every level forbids unknown keys, so a
nested typo (`budgets: {max_iter: 5}`) is bad input, not a silently ignored line.
Why pydantic: it is already a dependency, its errors carry the key path and the rule that failed,
and `model_json_schema()` documents the same rules for editors.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kernelwright.tools.check.settings import CheckSettings
from kernelwright.tools.sandbox.policy import SandboxPolicy

APPROVABLE = ("plan", "code")  # nodes whose output may wait for a person (graphs/approval.py)
STRUCTURED_MODES = ("auto", "json_schema", "tool", "off")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Section):
    input: float = Field(ge=0, description="USD per million input tokens")
    output: float = Field(ge=0, description="USD per million output tokens")


class LlmSettings(_Section):
    structured: Literal["auto", "json_schema", "tool", "off"] = Field(
        "auto", description="how answers are asked for (off: plain text)")
    prices: dict[str, Price] = Field(default_factory=dict, description="model (or glob) -> price per million tokens")


class BudgetSettings(_Section):
    max_iters: int = Field(3, ge=1, description="plan -> code rounds")
    max_debug_tries: int = Field(2, ge=0, description="debug rounds per failing candidate")
    max_tokens: int | None = Field(None, gt=0, description="stop once the run has used this many LLM tokens")
    max_wall_s: float | None = Field(None, gt=0, description="stop once the run's nodes have taken this long")
    target_speedup: float | None = Field(None, gt=0, description="stop once the best beats eager by this much")
    patience: int = Field(2, ge=1, description="stop after this many rounds without a new best")
    max_cost_usd: float | None = Field(None, gt=0, description="stop once the LLM calls cost this much (needs llm.prices)")


class ProfileSettings(_Section):
    tier: Literal[1, 2, 3, "off"] | None = Field(
        None, description="null: the best tier this machine has; 1 ncu, 2 timeline, 3 static; off")
    budget_s: float = Field(240, gt=0, description="seconds for the whole profile node on a GPU")

    @field_validator("tier", mode="before")
    @classmethod
    def _bare_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads a bare `off` as false


# A role's own options (`roles.NAME.options`): free-form, since a plugin role defines its own keys;
# the built-in roles read `prompt_file` and `concurrency`.
RoleOptions = dict[str, Any]


class RoleConfig(_Section):
    impl: str = Field(min_length=1, description="module:attr of the role's function or class, or an entry point's name")
    options: RoleOptions = Field(default_factory=dict, description="passed to the role (free-form: the role's own)")
    after: str | None = Field(None, description="add the role as a node after this one")


class Config(_Section):
    """A run's whole configuration (`kernelwright config show` prints it with each value's source)."""

    model: str | None = Field(None, description="model name for the llm policy")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint")
    api_key_env: str = Field("OPENAI_API_KEY", min_length=1, description="the environment variable holding the key")
    timeout_s: float = Field(120, gt=0, description="seconds per LLM request")
    max_retries: int = Field(3, ge=0, description="retries on rate limits and 5xx")
    temperature: float | None = Field(None, ge=0, description="null: the server's default")
    streaming: bool = False
    max_output_tokens: int | None = Field(None, gt=0, description="cap on each answer's length")
    llm: LlmSettings = Field(default_factory=LlmSettings)
    policy: Literal["auto", "llm", "expert"] = Field("auto", description="auto: llm when a model is configured, else expert")
    approve: list[Literal["plan", "code"]] = Field(default_factory=list, description="nodes whose output waits for a person")
    candidates: int = Field(1, ge=1, le=64, description="candidates per round, checked in parallel")
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    profile: ProfileSettings = Field(default_factory=ProfileSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
    sandbox: SandboxPolicy = Field(default_factory=SandboxPolicy)
    roles: dict[str, RoleConfig] = Field(default_factory=dict, description="replaced or added roles")

    @field_validator("approve", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):  # `--approve plan,code` and `approve: plan`
            return [part.strip() for part in re.split(r"[,\s]+", value) if part.strip()]
        return value

    def effective_policy(self) -> str:
        """auto means llm when a model is configured, else the offline expert."""
        if self.policy == "auto":
            return "llm" if self.model else "expert"
        return self.policy
