"""The suite's score from per-problem results (the protocol's suite score: accepted rate, fast_p, geometric means).

fast_p = share of all problems that are accepted and faster than the baseline by more than p;
fast_0 = the acceptance rate. Where accepted problems have no speedup (CPU runs: no timing), fast_p
for p > 0 counts only the timed ones, and a note says so; with nothing timed it is null.
"""

from __future__ import annotations

import math
import statistics

from kernelwright.bench.records import BenchRecord, BenchResult, Number

P_VALUES = (0.0, 0.5, 0.8, 1.0, 1.5, 2.0)
# eager and torch.compile are always scored; max-autotune when some result was timed against it.
BASELINES = ("eager", "compile", "compile_max_autotune")
ALWAYS_SCORED = ("eager", "compile")


def p_key(p: float) -> str:
    return f"{p:g}"


class BenchSummary(BenchRecord):
    """The suite's score (results.json's `summary`); rates are over the finished problems."""

    problems: int  # finished
    planned: int  # in the suite
    complete: bool
    accepted: int
    accepted_rate: float | None
    unsupported: int  # no kernel from the policy
    errors: int  # failed otherwise (bad input, crashes)
    timed: dict[str, int]  # baseline -> accepted problems with a speedup against it
    fast_p: dict[str, dict[str, float | None]]  # baseline -> p (p_key) -> fast_p
    geomean_speedup: dict[str, float | None]  # baseline -> geometric mean over the timed problems
    median_pct_sol: Number | None
    tokens: int
    cost_usd: Number | None  # dollars where some run had a price (llm.prices); null when none had
    wall_s: float  # all runs together
    notes: list[str]


def speedup_of(result: BenchResult, baseline: str) -> float | None:
    value = (result.speedup or {}).get(baseline)
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def geometric_mean(values: list[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def summarize(results: list[BenchResult], planned: int | None = None) -> BenchSummary:
    """The summary of finished results; `planned` is the suite's size (a partial bench says so)."""
    n = len(results)
    accepted = [r for r in results if r.accepted]
    baselines = [b for b in BASELINES if b in ALWAYS_SCORED or any(speedup_of(r, b) is not None for r in results)]
    fast_p: dict[str, dict[str, float | None]] = {}
    timed: dict[str, int] = {}
    geomean: dict[str, float | None] = {}
    notes: list[str] = []
    for b in baselines:
        speeds = [s for s in (speedup_of(r, b) for r in accepted) if s is not None]
        timed[b] = len(speeds)
        fast_p[b] = {p_key(p): (len(accepted) / n if n else None) if p == 0 else
                     (sum(s > p for s in speeds) / n if speeds else None) for p in P_VALUES}
        geomean[b] = geometric_mean(speeds)
        if len(speeds) < len(accepted):
            notes.append(f"{b}: {len(accepted) - len(speeds)} of {len(accepted)} accepted problems have no speedup "
                         "(no timing on the CPU, or timing failed); fast_p for p > 0 and the geometric mean count timed problems only")
    sol = [r.pct_sol for r in accepted if r.pct_sol is not None]
    costs = [r.cost_usd for r in results if r.cost_usd is not None]
    planned = planned if planned is not None else n
    complete = n >= planned
    if not complete:
        notes.insert(0, f"partial: {n} of {planned} problems finished; rates are over the finished ones")
    return BenchSummary(
        problems=n, planned=planned, complete=complete, accepted=len(accepted), accepted_rate=len(accepted) / n if n else None,
        unsupported=sum(1 for r in results if r.unsupported),
        errors=sum(1 for r in results if r.error and not r.unsupported),
        timed=timed, fast_p=fast_p, geomean_speedup=geomean, median_pct_sol=statistics.median(sol) if sol else None,
        tokens=sum(r.tokens for r in results), cost_usd=sum(costs) if costs else None,
        wall_s=sum(float(r.wall_s or 0.0) for r in results), notes=notes,
    )
