"""What a run teaches the knowledge memory, with the evidence that lets anyone re-test it.

- A debug fix that turned a failing candidate into an accepted one: a `fix` lesson.
- A timed candidate that moved the median beyond the noise floor against the best before it:
  an `optimization` lesson when faster, a `failed-idea` lesson when slower (the plan's NEXT
  section names the change that was tried).
- LESSON sections the analyst wrote: `learned` lessons tied to the run and round.
Duplicates merge in the store (same conditions and change), so repeated runs raise evidence
instead of piling up rows.
"""

from __future__ import annotations

import re
from typing import Any

OPS = re.compile(r"\b(?:torch|F|nn|functional)\.([A-Za-z_][A-Za-z0-9_]*)")


def _ops(problem: dict[str, Any]) -> list[str]:
    return sorted({op for op in OPS.findall(problem.get("source", "")) if op not in {"Module", "Tensor", "randn", "Parameter"}})


def _evidence(state: dict[str, Any], step: str, **extra: Any) -> dict[str, Any]:
    return {"run_id": state.get("run_id"), "step": step, **extra}


def learn_from_check(memory: Any, state: dict[str, Any], attempts: list[dict[str, Any]]) -> list[str]:
    """Lessons from one check round's attempts; returns the ids written."""
    if memory is None:
        return []
    by_id = {a["candidate_id"]: a for a in state.get("attempts", [])}
    problem = state.get("problem", {})
    ops = " ".join(_ops(problem))
    written = []
    for a in attempts:
        parent = by_id.get(a.get("parent_id") or "")
        if a["accepted"] and a.get("origin") == "debug" and parent is not None and not parent["accepted"]:
            reason = (parent.get("reasons") or [{}])[0].get("message", "")[:300]
            lesson = memory.add_lesson(
                f"Fix for {parent['verdict']} in a {problem.get('name', 'kernel')} kernel ({ops})",
                f"A candidate failed with {parent['verdict']}: {reason}\nThe debugger's rewrite "
                f"({a['candidate_id']}) was accepted. Compare the two sources in run {state.get('run_id')}.",
                kind="fix", change=f"fix {parent['verdict']}", tags=[problem.get("name", ""), *_ops(problem)],
                evidence=_evidence(state, a["candidate_id"], metrics_before={}, metrics_after={}),
            )
            written.append(lesson.id)
        best = state.get("best")
        noise = (((a.get("check") or {}).get("timing")) or {}).get("noise_floor")
        if a["accepted"] and a.get("median_ms") and best and best.get("median_ms") and noise is not None:
            ratio = best["median_ms"] / a["median_ms"]
            if abs(ratio - 1.0) > noise:
                faster = ratio > 1.0
                change = _next_step(state.get("plan") or "") or f"rewrite of {best['candidate_id']}"
                lesson = memory.add_lesson(
                    f"{'Faster' if faster else 'Slower'}: {change[:80]} ({problem.get('name', '')})",
                    f"{change}\nMedian {best['median_ms']:.4f} ms -> {a['median_ms']:.4f} ms ({ratio:.2f}x; noise floor {noise:.1%}).",
                    kind="optimization" if faster else "failed-idea", change=change, tags=[problem.get("name", ""), *_ops(problem)],
                    evidence=_evidence(state, a["candidate_id"], metrics_before={"median_ms": best["median_ms"]},
                                       metrics_after={"median_ms": a["median_ms"]}, speedup=ratio, speedup_spread=noise),
                )
                written.append(lesson.id)
    return written


def learn_from_analysis(memory: Any, state: dict[str, Any], lessons: list[dict[str, Any]]) -> list[str]:
    if memory is None:
        return []
    profile = state.get("profile") or {}
    metrics = {k: v for k, v in ((profile.get("roofline") or {}).items()) if isinstance(v, (int, float))}
    written = []
    for item in lessons:
        lesson = memory.add_lesson(
            item["title"][:200], item.get("body") or item["title"], kind="optimization",
            tags=[state.get("problem", {}).get("name", "")],
            evidence=_evidence(state, f"analyze@round{state.get('iteration', 0)}", metrics_before=metrics),
        )
        written.append(lesson.id)
    return written


def _next_step(plan: str) -> str:
    match = re.search(r"NEXT:\s*(.+)", plan)
    return match.group(1).strip() if match else ""
