"""Deterministic routing on tool results. Pure functions of the state and the budgets."""

from __future__ import annotations

from typing import Literal

from kernelwright.agents.attempts import debuggable_attempts, round_attempts
from kernelwright.agents.context import Budgets
from kernelwright.agents.records.run_state import RunState


def tokens_used(state: RunState) -> int:
    return sum(c.usage.total_tokens for c in state.get("llm_calls", []))


def cost_used(state: RunState) -> float | None:
    """US dollars spent on LLM calls so far; None when no call had a price."""
    from kernelwright.agents.cost import total_cost

    return total_cost(c.cost_usd for c in state.get("llm_calls", []))


def stop_reason(state: RunState, budgets: Budgets) -> str | None:
    """Why the run should stop now, or None to go on with another round."""
    if state.get("user_stop"):  # a person rejected a plan or the code (`run --approve`)
        return state["user_stop"]
    best = state.get("best")
    eager = (best.speedup or {}).get("eager") if best else None
    if budgets.target_speedup and eager and eager >= budgets.target_speedup:
        return f"target speedup {budgets.target_speedup}x reached ({eager:.2f}x vs eager)"
    if budgets.max_tokens and tokens_used(state) >= budgets.max_tokens:
        return f"token budget spent ({tokens_used(state)} of {budgets.max_tokens})"
    if budgets.max_cost_usd is not None and (cost_used(state) or 0.0) >= budgets.max_cost_usd:
        return f"cost budget spent (${cost_used(state):.4f} of ${budgets.max_cost_usd:.4f})"
    if budgets.max_wall_s and state.get("elapsed_s", 0.0) >= budgets.max_wall_s:
        return f"wall-time budget spent ({state['elapsed_s']:.0f}s of {budgets.max_wall_s:.0f}s)"
    if state.get("iteration", 0) >= budgets.max_iters:
        return f"iteration budget spent ({budgets.max_iters} rounds)"
    if state.get("iteration", 0) - state.get("best_iteration", 0) >= budgets.patience:
        return f"no progress for {budgets.patience} rounds"
    return None


def route_after_check(state: RunState, budgets: Budgets) -> Literal["debug", "profile", "plan", "finish"]:
    if debuggable_attempts(state, budgets):
        return "debug"
    if any(a.accepted for a in round_attempts(state)):
        return "profile"
    return "finish" if stop_reason(state, budgets) else "plan"


def route_after_analyze(state: RunState, budgets: Budgets) -> Literal["plan", "finish"]:
    return "finish" if stop_reason(state, budgets) else "plan"
