"""What a run teaches the knowledge memory, with the evidence that lets anyone re-test it.

- A debug fix that turned a failing candidate into an accepted one: a `fix` lesson.
- A timed candidate that moved the median beyond the noise floor against the best before it:
  an `optimization` lesson when faster, a `failed-idea` lesson when slower (the plan's
  `next_step.change` names the change that was tried).
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

from kernelwright.agents.conditions import problem_conditions
from kernelwright.agents.records import Attempt, LessonOutcome, ProblemSummary, ProposedLesson
from kernelwright.agents.records.run_state import RunState
from kernelwright.memory.model import Evidence
from kernelwright.memory.store import MemoryStore

OPS = re.compile(r"\b(?:torch|F|nn|functional)\.([A-Za-z_][A-Za-z0-9_]*)")


def _ops(problem: ProblemSummary | None) -> list[str]:
    source = problem.source if problem else ""
    return sorted({op for op in OPS.findall(source) if op not in {"Module", "Tensor", "randn", "Parameter"}})


def _evidence(state: RunState, step: str, **measured: dict[str, float] | float) -> Evidence:
    """What anyone needs to re-test a lesson: the run and step it came from, and what was measured."""
    return Evidence(run_id=state.get("run_id"), step=step, **measured)


def _noise_floor(attempt: Attempt) -> float | None:
    noise = (attempt.check.timing or {}).get("noise_floor")
    return float(noise) if isinstance(noise, (int, float)) else None


def learn_from_check(memory: MemoryStore | None, state: RunState, attempts: list[Attempt]) -> list[str]:
    """Lessons from one check round's attempts; returns the ids written."""
    if memory is None:
        return []
    by_id = {a.candidate_id: a for a in state.get("attempts", [])}
    problem = state.get("problem")
    name = problem.name if problem else ""
    ops = " ".join(_ops(problem))
    conditions = problem_conditions(problem.source if problem else "")
    written = []
    for a in attempts:
        parent = by_id.get(a.parent_id or "")
        if a.accepted and a.origin == "debug" and parent is not None and not parent.accepted:
            reason = parent.first_reason()[:300]
            lesson = memory.add_lesson(
                f"Fix for {parent.verdict} in a {name or 'kernel'} kernel ({ops})",
                f"A candidate failed with {parent.verdict}: {reason}\nThe debugger's rewrite "
                f"({a.candidate_id}) was accepted. Compare the two sources in run {state.get('run_id')}.",
                kind="fix", change=f"fix {parent.verdict}", **conditions, tags=[name, *_ops(problem)],
                evidence=_evidence(state, a.candidate_id, metrics_before={}, metrics_after={}),
            )
            written.append(lesson.id)
        best = state.get("best")
        noise = _noise_floor(a)
        if a.accepted and a.median_ms and best and best.median_ms and noise is not None:
            ratio = best.median_ms / a.median_ms
            if abs(ratio - 1.0) > noise:
                faster = ratio > 1.0
                change = _tried_change(state) or f"rewrite of {best.candidate_id}"
                lesson = memory.add_lesson(
                    f"{'Faster' if faster else 'Slower'}: {change[:80]} ({name})",
                    f"{change}\nMedian {best.median_ms:.4f} ms -> {a.median_ms:.4f} ms ({ratio:.2f}x; noise floor {noise:.1%}).",
                    kind="optimization" if faster else "failed-idea", change=change, **conditions,
                    arch=a.check.arch or "any", tags=[name, *_ops(problem)],
                    evidence=_evidence(state, a.candidate_id, metrics_before={"median_ms": best.median_ms},
                                       metrics_after={"median_ms": a.median_ms}, speedup=ratio, speedup_spread=noise),
                )
                written.append(lesson.id)
    return written


def learn_from_analysis(memory: MemoryStore | None, state: RunState, lessons: list[ProposedLesson]) -> list[str]:
    if memory is None:
        return []
    profile = state.get("profile")
    roofline = (profile.roofline if profile else None) or {}
    metrics = {k: v for k, v in roofline.items() if isinstance(v, (int, float))}
    problem = state.get("problem")
    written = []
    for item in lessons:
        lesson = memory.add_lesson(
            item.title[:200], item.body or item.title, kind="optimization",
            **problem_conditions(problem.source if problem else ""),
            tags=[problem.name if problem else ""],
            evidence=_evidence(state, f"analyze@round{state.get('iteration', 0)}", metrics_before=metrics),
        )
        written.append(lesson.id)
    return written


def _tried_change(state: RunState) -> str:
    """The change this round tried, as the planner stated it (`Plan.next_step`); "" if it stated none."""
    plan = state.get("plan")
    return plan.next_step.change if plan and plan.next_step else ""


# Verdicts that say the candidate itself was broken (as opposed to a tooling failure), so a
# lesson it applied did not hold.
_BROKEN = {"compile_error", "runtime_error", "timeout", "crash", "wrong_output", "shape_mismatch", "dtype_mismatch",
           "unwritten_output", "input_mutated", "shape_overfit"}
# Lessons whose claim is about correctness: an accepted candidate is enough to confirm them.
_CORRECTNESS_KINDS = {"fix", "pitfall"}


def lesson_outcome(kind: str, attempt: Attempt, best_before: Attempt | None) -> tuple[bool, Evidence] | None:
    """Did applying a lesson of `kind` hold up in `attempt`? (improved, evidence) or None when
    nothing was measured that could say (e.g. an optimization lesson on a machine without timing,
    or a timing within the noise floor).

    Timed: the attempt's median against the best accepted before it (else against eager), beyond
    the check's noise floor. Rejected as broken: the lesson did not hold. Accepted without timing:
    only correctness claims (`fix`, `pitfall`) are confirmed.
    """
    # `verdict` and `against` are keys of the evidence's own (Evidence keeps unknown keys).
    evidence = Evidence(verdict=attempt.verdict)
    if not attempt.accepted:
        if attempt.verdict not in _BROKEN:
            return None
        return False, evidence
    raw = (attempt.check.timing or {}).get("speedup_raw")
    noise = _noise_floor(attempt)
    median = attempt.median_ms
    if median and noise is not None and best_before and best_before.median_ms:
        ratio = best_before.median_ms / median
        evidence = Evidence(verdict=attempt.verdict, metrics_before={"median_ms": best_before.median_ms},
                            metrics_after={"median_ms": median}, speedup=ratio, speedup_spread=noise, against=best_before.candidate_id)
        return None if abs(ratio - 1.0) <= noise else (ratio > 1.0, evidence)
    eager = raw.get("eager") if isinstance(raw, dict) else None
    if median and noise is not None and isinstance(eager, (int, float)):
        evidence = Evidence(verdict=attempt.verdict, metrics_after={"median_ms": median}, speedup=eager, speedup_spread=noise,
                            against="eager")
        return None if abs(eager - 1.0) <= noise else (eager > 1.0, evidence)
    if kind in _CORRECTNESS_KINDS:
        return True, evidence
    return None


def record_lesson_outcomes(memory: MemoryStore | None, state: RunState, attempts: list[Attempt]) -> list[Attempt]:
    """For every attempt that applied lessons (`applied_lessons`, set by the role that wrote it),
    move each lesson's confidence by the measured outcome and note it on the attempt
    (`lesson_outcomes`, which the trace shows); returns the attempts with their outcomes. Unknown
    ids (a forgotten lesson) are skipped."""
    if memory is None:
        return attempts
    from kernelwright.memory.store import UnknownLessonError

    best_before = state.get("best")
    noted = []
    for a in attempts:
        outcomes = []
        for lesson_id in dict.fromkeys(a.applied_lessons):
            try:
                kind = memory.get(lesson_id).kind
            except UnknownLessonError:
                continue
            if kind == "failed-idea":
                # Heeding a failed idea means not doing it: the attempt does not test the claim.
                outcomes.append(LessonOutcome(lesson_id=lesson_id, outcome="not tested (failed idea heeded)"))
                continue
            judged = lesson_outcome(kind, a, best_before)
            if judged is None:
                outcomes.append(LessonOutcome(lesson_id=lesson_id, outcome="not measured"))
                continue
            improved, evidence = judged
            updated = memory.record_outcome(lesson_id, improved,
                                            evidence.model_copy(update={"run_id": state.get("run_id"), "step": a.candidate_id}))
            outcomes.append(LessonOutcome(lesson_id=lesson_id, outcome="held" if improved else "did not hold", confidence=updated.confidence))
        noted.append(a.model_copy(update={"lesson_outcomes": tuple(outcomes)}) if outcomes else a)
    return noted
