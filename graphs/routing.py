"""Deterministic routing on tool results. Pure functions of the state and the budgets."""

from __future__ import annotations

import re
from typing import Any, Literal

from kernelwright.graphs.context import Budgets


def round_attempts(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Attempts checked in the current round (plan -> code -> check [-> debug -> check]...)."""
    return [a for a in state.get("attempts", []) if a["iteration"] == state.get("iteration", 0)]


_HEX = re.compile(r"0x[0-9a-fA-F]+")
_PATH = re.compile(r"(?:/[^\s/:'\"]+)+/([^\s/:'\"]+)")


def failure_signature(attempt: dict[str, Any]) -> tuple[str, str]:
    """(verdict, first reason) with addresses and directories blanked, so the same failure in a
    fresh sandbox directory still reads as the same failure."""
    first = attempt["reasons"][0]["message"] if attempt.get("reasons") else ""
    message = _PATH.sub(r"\1", _HEX.sub("0x?", first))
    return attempt["verdict"], " ".join(message.split())[:300]


def debuggable_attempts(state: dict[str, Any], budgets: Budgets) -> list[dict[str, Any]]:
    """Failed attempts of this round worth a debug try: not yet given to the debugger (whether or
    not it produced a fix, so the loop always ends), under the per-candidate budget, and not
    failing exactly as their parent did (a repeated identical failure stops that line)."""
    attempts = round_attempts(state)
    by_id = {a["candidate_id"]: a for a in attempts}
    handled = {a["parent_id"] for a in attempts if a.get("parent_id")} | set(state.get("debugged") or [])
    out = []
    for a in attempts:
        if a["accepted"] or a["candidate_id"] in handled:
            continue
        if a.get("debug_tries", 0) >= budgets.max_debug_tries:
            continue
        parent = by_id.get(a.get("parent_id") or "")
        if parent is not None and failure_signature(parent) == failure_signature(a):
            continue
        out.append(a)
    return out


def tokens_used(state: dict[str, Any]) -> int:
    return sum((c.get("usage") or {}).get("total_tokens", 0) or 0 for c in state.get("llm_calls", []))


def stop_reason(state: dict[str, Any], budgets: Budgets) -> str | None:
    """Why the run should stop now, or None to go on with another round."""
    best = state.get("best") or {}
    eager = (best.get("speedup") or {}).get("eager")
    if budgets.target_speedup and eager and eager >= budgets.target_speedup:
        return f"target speedup {budgets.target_speedup}x reached ({eager:.2f}x vs eager)"
    if budgets.max_tokens and tokens_used(state) >= budgets.max_tokens:
        return f"token budget spent ({tokens_used(state)} of {budgets.max_tokens})"
    if budgets.max_wall_s and state.get("elapsed_s", 0.0) >= budgets.max_wall_s:
        return f"wall-time budget spent ({state['elapsed_s']:.0f}s of {budgets.max_wall_s:.0f}s)"
    if state.get("iteration", 0) >= budgets.max_iters:
        return f"iteration budget spent ({budgets.max_iters} rounds)"
    if state.get("iteration", 0) - state.get("best_iteration", 0) >= budgets.patience:
        return f"no progress for {budgets.patience} rounds"
    return None


def route_after_check(state: dict[str, Any], budgets: Budgets) -> Literal["debug", "profile", "plan", "finish"]:
    if debuggable_attempts(state, budgets):
        return "debug"
    if any(a["accepted"] for a in round_attempts(state)):
        return "profile"
    return "finish" if stop_reason(state, budgets) else "plan"


def route_after_analyze(state: dict[str, Any], budgets: Budgets) -> Literal["plan", "finish"]:
    return "finish" if stop_reason(state, budgets) else "plan"
