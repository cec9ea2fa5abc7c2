"""The command-line flags that set config keys, shared by `run`, `bench` and `config show`.

One table maps each flag to its key path, so the flag's value lands in the same place for every
command and `config show` can say "flag --max-iters" as the source of `budgets.max_iters`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # resolve.py imports this module's table
    from kernelwright.configs.resolve import RawConfig

# (argparse dest, key path, flag): the order is the help's.
CONFIG_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("policy", "policy", "--policy"),
    ("model", "model", "--model"),
    ("base_url", "base_url", "--base-url"),
    ("device", "check.device", "--device"),
    ("max_iters", "budgets.max_iters", "--max-iters"),
    ("candidates", "candidates", "--candidates"),
    ("max_cost", "budgets.max_cost_usd", "--max-cost"),
    ("approve", "approve", "--approve"),
)
FLAG_OF: dict[str, str] = {key: flag for _, key, flag in CONFIG_FLAGS}


def add_config_flags(p: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """The flags that set config keys (their ranges are the config model's: checked with the rest)."""
    helps = {
        "policy": dict(choices=["llm", "expert"], help="default: llm when a model is configured, else expert"),
        "model": dict(help="LLM name (also KERNELWRIGHT_MODEL or the config's model)"),
        "base_url": dict(help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"),
        "device": dict(help="auto, cpu, cuda or cuda:N (default auto)"),
        "max_iters": dict(type=int, help="plan -> code rounds (default 3, at least 1)"),
        "candidates": dict(type=int, help="candidates per round (default 1)"),
        "max_cost": dict(type=float, metavar="USD", help="stop once the LLM calls cost this much (needs the model's price in llm.prices)"),
        "approve": dict(action="append", metavar="plan|code",
                        help="pause for a person's approval after the plan (or the code); repeat or comma-separate for both"),
    }
    for dest, _, flag in CONFIG_FLAGS:
        if dest not in skip:
            p.add_argument(flag, dest=dest, **helps[dest])  # type: ignore[arg-type]


def flag_overrides(args: argparse.Namespace) -> RawConfig:
    """The config keys the given flags set, as a nested mapping (flags left out set nothing)."""
    out: RawConfig = {}
    for dest, key, _ in CONFIG_FLAGS:
        value = getattr(args, dest, None)
        if value is None:
            continue
        if dest == "approve":
            value = [part.strip() for flag in value for part in flag.split(",") if part.strip()]
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out
