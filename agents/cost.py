"""Money next to tokens: the config's price table (`llm.prices`), per model, in US dollars per
million input (prompt) and output (completion) tokens.

    llm:
      prices:
        gpt-4o: {input: 2.50, output: 10.00}
        "qwen*": {input: 0, output: 0}      # a glob matches served names such as qwen2.5-coder-32b

A call's model is matched by the name the endpoint says it served, then by the configured name;
exact names before globs. A model with no price has no cost (None), never a guessed one.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kernelwright.tools.problem import InputError

if TYPE_CHECKING:
    from kernelwright.agents.records import Usage


@dataclass(frozen=True)
class Price:
    input_per_m: float
    output_per_m: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_m + completion_tokens * self.output_per_m) / 1e6


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]

    @classmethod
    def from_config(cls, table: Any, where: str = "config llm.prices") -> PriceTable:
        """Checked: each entry {input: $/M, output: $/M}, non-negative numbers; InputError otherwise."""
        if table in (None, {}):
            return cls({})
        if not isinstance(table, dict):
            raise InputError(f"{where}: a mapping of model name -> {{input: USD per million tokens, output: ...}}, not {table!r}")
        prices = {}
        for model, entry in table.items():
            if not isinstance(entry, dict) or set(entry) - {"input", "output"} or not all(
                    isinstance(entry.get(k), (int, float)) and entry[k] >= 0 for k in ("input", "output")):
                raise InputError(f"{where}.{model}: give {{input: N, output: N}} in USD per million tokens (non-negative), not {entry!r}")
            prices[str(model)] = Price(float(entry["input"]), float(entry["output"]))
        return cls(prices)

    def price_of(self, *names: str | None) -> Price | None:
        for name in filter(None, names):
            if name in self.prices:
                return self.prices[name]
        for name in filter(None, names):
            for pattern, price in self.prices.items():
                if fnmatch.fnmatchcase(name, pattern):
                    return price
        return None

    def cost(self, usage: Usage, *names: str | None) -> float | None:
        price = self.price_of(*names)
        if price is None:
            return None
        return price.cost(usage.prompt_tokens, usage.completion_tokens)


def total_cost(costs: Iterable[float | None]) -> float | None:
    """The summed cost of llm calls (`LlmCall.cost_usd`, or the same field read back from a trace);
    None when no call has a price (nothing known)."""
    known = [c for c in costs if isinstance(c, (int, float))]
    return sum(known) if known else None
