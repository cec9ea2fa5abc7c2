"""What a run teaches the knowledge memory, with the evidence that lets anyone re-test it.

- A debug fix that turned a failing candidate into an accepted one: a `fix` lesson.
- A timed candidate that moved the median beyond the noise floor against the best before it:
  an `optimization` lesson when faster, a `failed-idea` lesson when slower (the plan's NEXT
  section names the change that was tried).
- LESSON sections the analyst wrote: `learned` lessons tied to the run and round.
- Lessons a candidate applied (`applied_lessons`) move with the measured outcome
  (`record_lesson_outcomes`): confidence up when the change held, down when it did not.
Lessons are filed under the problem's op family and dtype (`conditions`), and timing lessons
under the GPU architecture they were measured on.
Duplicates merge in the store (same conditions and change), so repeated runs raise evidence
instead of piling up rows.
"""

from __future__ import annotations

import re
from typing import Any

from kernelwright.agents.conditions import problem_conditions

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
    conditions = problem_conditions(problem.get("source", ""))
    written = []
    for a in attempts:
        parent = by_id.get(a.get("parent_id") or "")
        if a["accepted"] and a.get("origin") == "debug" and parent is not None and not parent["accepted"]:
            reason = (parent.get("reasons") or [{}])[0].get("message", "")[:300]
            lesson = memory.add_lesson(
                f"Fix for {parent['verdict']} in a {problem.get('name', 'kernel')} kernel ({ops})",
                f"A candidate failed with {parent['verdict']}: {reason}\nThe debugger's rewrite "
                f"({a['candidate_id']}) was accepted. Compare the two sources in run {state.get('run_id')}.",
                kind="fix", change=f"fix {parent['verdict']}", **conditions, tags=[problem.get("name", ""), *_ops(problem)],
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
                    kind="optimization" if faster else "failed-idea", change=change, **conditions,
                    arch=(a.get("check") or {}).get("arch") or "any", tags=[problem.get("name", ""), *_ops(problem)],
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
            **problem_conditions(state.get("problem", {}).get("source", "")),
            tags=[state.get("problem", {}).get("name", "")],
            evidence=_evidence(state, f"analyze@round{state.get('iteration', 0)}", metrics_before=metrics),
        )
        written.append(lesson.id)
    return written


def _next_step(plan: str) -> str:
    match = re.search(r"NEXT:\s*(.+)", plan)
    return match.group(1).strip() if match else ""


# Verdicts that say the candidate itself was broken (as opposed to a tooling failure), so a
# lesson it applied did not hold.
_BROKEN = {"compile_error", "runtime_error", "timeout", "crash", "wrong_output", "shape_mismatch", "dtype_mismatch",
           "unwritten_output", "input_mutated", "shape_overfit"}
# Lessons whose claim is about correctness: an accepted candidate is enough to confirm them.
_CORRECTNESS_KINDS = {"fix", "pitfall"}


def lesson_outcome(kind: str, attempt: dict[str, Any], best_before: dict[str, Any] | None) -> tuple[bool, dict[str, Any]] | None:
    """Did applying a lesson of `kind` hold up in `attempt`? (improved, evidence) or None when
    nothing was measured that could say (e.g. an optimization lesson on a machine without timing,
    or a timing within the noise floor).

    Timed: the attempt's median against the best accepted before it (else against eager), beyond
    the check's noise floor. Rejected as broken: the lesson did not hold. Accepted without timing:
    only correctness claims (`fix`, `pitfall`) are confirmed.
    """
    evidence: dict[str, Any] = {"verdict": attempt.get("verdict")}
    if not attempt.get("accepted"):
        if attempt.get("verdict") not in _BROKEN:
            return None
        return False, evidence
    timing = ((attempt.get("check") or {}).get("timing")) or {}
    noise = timing.get("noise_floor")
    median = attempt.get("median_ms")
    if median and noise is not None and best_before and best_before.get("median_ms"):
        ratio = best_before["median_ms"] / median
        evidence.update(metrics_before={"median_ms": best_before["median_ms"]}, metrics_after={"median_ms": median},
                        speedup=ratio, speedup_spread=noise, against=best_before["candidate_id"])
        return None if abs(ratio - 1.0) <= noise else (ratio > 1.0, evidence)
    eager = (timing.get("speedup_raw") or {}).get("eager")
    if median and noise is not None and eager:
        evidence.update(metrics_after={"median_ms": median}, speedup=eager, speedup_spread=noise, against="eager")
        return None if abs(eager - 1.0) <= noise else (eager > 1.0, evidence)
    if kind in _CORRECTNESS_KINDS:
        return True, evidence
    return None


def record_lesson_outcomes(memory: Any, state: dict[str, Any], attempts: list[dict[str, Any]]) -> None:
    """For every attempt that applied lessons (`applied_lessons`, set by the role that wrote it),
    move each lesson's confidence by the measured outcome and note it on the attempt
    (`lesson_outcomes`, which the trace shows). Unknown ids (a forgotten lesson) are skipped."""
    if memory is None:
        return
    from kernelwright.memory.store import UnknownLessonError

    best_before = state.get("best")
    for a in attempts:
        outcomes = []
        for lesson_id in dict.fromkeys(a.get("applied_lessons") or []):
            try:
                kind = memory.get(lesson_id).kind
            except UnknownLessonError:
                continue
            if kind == "failed-idea":
                # Heeding a failed idea means not doing it: the attempt does not test the claim.
                outcomes.append({"lesson_id": lesson_id, "outcome": "not tested (failed idea heeded)"})
                continue
            judged = lesson_outcome(kind, a, best_before)
            if judged is None:
                outcomes.append({"lesson_id": lesson_id, "outcome": "not measured"})
                continue
            improved, evidence = judged
            updated = memory.record_outcome(lesson_id, improved, _evidence(state, a["candidate_id"], **evidence))
            outcomes.append({"lesson_id": lesson_id, "outcome": "held" if improved else "did not hold",
                             "confidence": updated.confidence})
        if outcomes:
            a["lesson_outcomes"] = outcomes
