"""Which attempts of a run belong to the current round, which failures repeat, and which are worth
a debugger's try: read by the roles (what to fix) and by the routing (whether to debug)."""

from __future__ import annotations

import re

from kernelwright.agents.context import Budgets
from kernelwright.agents.records import Attempt
from kernelwright.agents.records.run_state import RunState


def round_attempts(state: RunState) -> list[Attempt]:
    """Attempts checked in the current round (plan -> code -> check [-> debug -> check]...)."""
    return [a for a in state.get("attempts", []) if a.iteration == state.get("iteration", 0)]


_HEX = re.compile(r"0x[0-9a-fA-F]+")
_PATH = re.compile(r"(?:/[^\s/:'\"]+)+/([^\s/:'\"]+)")


def failure_signature(attempt: Attempt) -> tuple[str, str]:
    """(verdict, first reason) with addresses and directories blanked, so the same failure in a
    fresh sandbox directory still reads as the same failure."""
    message = _PATH.sub(r"\1", _HEX.sub("0x?", attempt.first_reason()))
    return attempt.verdict, " ".join(message.split())[:300]


def debuggable_attempts(state: RunState, budgets: Budgets) -> list[Attempt]:
    """Failed attempts of this round worth a debug try: not yet given to the debugger (whether or
    not it produced a fix, so the loop always ends), under the per-candidate budget, and not
    failing exactly as their parent did (a repeated identical failure stops that line)."""
    attempts = round_attempts(state)
    by_id = {a.candidate_id: a for a in attempts}
    handled = {a.parent_id for a in attempts if a.parent_id} | set(state.get("debugged") or [])
    out = []
    for a in attempts:
        if a.accepted or a.candidate_id in handled:
            continue
        if a.debug_tries >= budgets.max_debug_tries:
            continue
        parent = by_id.get(a.parent_id or "")
        if parent is not None and failure_signature(parent) == failure_signature(a):
            continue
        out.append(a)
    return out
