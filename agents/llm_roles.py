"""The four roles of the `llm` policy: planner, coder, debugger, analyst.

Each is a callable `(state, ctx) -> dict` returning a partial `RunState` update; none mutates
`state`. Every exchange with the model comes back under "llm_calls" (an append-only log), and a
role that gives up raises a `RoleError` whose `llm_calls` still carry the exchanges it made.

`ctx.role_options[<role>]` may hold `prompt_file` (a replacement system prompt) and, for the
coder and debugger, `concurrency` (how many of the round's requests run at once; default all,
up to 8 — set 1 for scripted tests whose replies must reach candidates in order).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from kernelwright.agents import briefing as b
from kernelwright.agents.answers import ANALYSIS, PLAN, SOLUTION
from kernelwright.agents.attempts import debuggable_attempts
from kernelwright.agents.llm import RoleError, UnusableAnswer, ask
from kernelwright.agents.records import Attempt, Candidate, LlmCall, Plan, ProposedLesson
from kernelwright.agents.records.run_state import RunState
from kernelwright.agents.tracing import ContextThreadPoolExecutor, Labels, candidate_run

if TYPE_CHECKING:
    from kernelwright.agents.context import RunContext

MAX_CONCURRENCY = 8


def parse_plan(text: str) -> Plan:
    return PLAN.from_text(text).value


def parse_analysis(text: str) -> tuple[str, list[ProposedLesson]]:
    """The analysis text (BOTTLENECK, EVIDENCE, NEXT MOVES) and the lessons of its LESSON sections."""
    return ANALYSIS.from_text(text).value


# --- running several requests --------------------------------------------------------------------


def _ask_each(
    ctx: RunContext, role: str, jobs: list[list[BaseMessage]], answer: Any, labels: list[Labels]
) -> tuple[list[Any], list[LlmCall], list[str]]:
    """Ask every job (concurrently, see the module docstring), each in its candidate's run; results
    in job order. The pool copies the caller's context into each thread, so the LangGraph run's
    callbacks (LangSmith's tracer included) follow every request.

    Returns (result or None per job, all llm calls in job order, messages of unusable answers).
    An endpoint failure or any other exception is raised once all jobs have finished.
    """
    options = ctx.role_options.get(role, {})
    workers = max(1, min(int(options.get("concurrency", MAX_CONCURRENCY)), len(jobs)))

    def one(item: tuple[list[BaseMessage], Labels]) -> tuple[Any, list[LlmCall], BaseException | None]:
        messages, label = item

        def work() -> tuple[Any, list[LlmCall], BaseException | None]:
            try:
                value, calls = ask(ctx, role, messages, answer, label)
                return value, calls, None
            except RoleError as exc:
                return None, exc.llm_calls, exc
            except Exception as exc:  # noqa: BLE001 - re-raised below, after the other jobs' records
                return None, [], exc

        return candidate_run(label, work)

    items = list(zip(jobs, labels))
    if workers == 1:
        outcomes = [one(item) for item in items]
    else:
        with ContextThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"kw-{role}") as pool:
            outcomes = list(pool.map(one, items))
    results = [value for value, _, _ in outcomes]
    calls = [call for _, job_calls, _ in outcomes for call in job_calls]
    unusable = [str(exc) for _, _, exc in outcomes if isinstance(exc, UnusableAnswer)]
    for _, _, exc in outcomes:
        if exc is None or isinstance(exc, UnusableAnswer):
            continue
        if isinstance(exc, RoleError):
            raise type(exc)(str(exc), calls) from exc
        raise exc
    return results, calls, unusable


# --- planner -------------------------------------------------------------------------------------


def planner(state: RunState, ctx: RunContext) -> RunState:
    """-> {"plan": Plan("STRATEGY: ...\\nNEXT: ...\\nEXPECTED: ...", next_step), "llm_calls": [...]}."""
    previous = f"## Previous plan\n\n{plan.text}" if (plan := state.get("plan")) else ""
    user = b.join(
        b.problem_brief(state, ctx),
        b.lessons_brief(state, ctx),
        b.best_brief(state),
        b.history_brief(state),
        b.analysis_brief(state),
        previous,
        f"Write the plan for round {state.get('iteration', 0)}.",
    )
    messages = [SystemMessage(b.load_prompt("planner", ctx)), HumanMessage(user)]
    plan, calls = ask(ctx, "planner", messages, PLAN, {"round": state.get("iteration", 0)})
    return {"plan": plan, "llm_calls": calls}


# --- coder ---------------------------------------------------------------------------------------


def _variation(index: int, count: int) -> str:
    if count == 1:
        return "Write the solution."
    if index == 0:
        return f"This is candidate 1 of {count} this round: follow the plan as written."
    return (
        f"This is candidate {index + 1} of {count} this round: follow the plan, but make one design "
        "choice differently from the obvious one (block sizes, num_warps, autotune configurations, "
        "or which axis each program owns), so the round explores more than one point."
    )


def coder(state: RunState, ctx: RunContext) -> RunState:
    """-> {"pending": [candidate, ...], "llm_calls": [...]}: up to `ctx.candidates` new solutions,
    ids "r{iteration}-c{i}". Candidates whose answers were unusable twice are left out; if none is
    usable, raises `UnusableAnswer`."""
    iteration = state.get("iteration", 0)
    count = max(1, ctx.candidates)
    system = b.load_prompt("coder", ctx)
    lessons = b.lessons_brief(state, ctx)
    shown = b.shown_lesson_ids(lessons)
    shared = b.join(
        b.problem_brief(state, ctx),
        lessons,
        b.best_brief(state),
        b.history_brief(state),
        b.analysis_brief(state),
        b.plan_brief(state),
    )
    jobs = [[SystemMessage(system), HumanMessage(b.join(shared, _variation(i, count)))] for i in range(count)]
    labels = [{"round": iteration, "candidate": f"r{iteration}-c{i}"} for i in range(count)]
    answers, calls, unusable = _ask_each(ctx, "coder", jobs, SOLUTION, labels)
    # Lessons the plan acted on apply to every candidate of the round; the coder may add its own.
    planned = b.cited_lesson_ids(plan.text if (plan := state.get("plan")) else "", shown)
    pending = [
        Candidate(id=f"r{iteration}-c{i}", source=answer[0], iteration=iteration,
                  applied_lessons=tuple(dict.fromkeys([*planned, *b.cited_lesson_ids(answer[1], shown)])))
        for i, answer in enumerate(answers)
        if answer is not None
    ]
    if not pending:
        raise UnusableAnswer(f"coder: no usable solution in round {iteration}: {unusable[-1]}", calls)
    return {"pending": pending, "llm_calls": calls}


# --- debugger ------------------------------------------------------------------------------------

def _lineage_brief(attempt: Attempt, by_id: dict[str, Attempt]) -> str:
    earlier, current = [], by_id.get(attempt.parent_id or "")
    while current is not None and len(earlier) < 5:
        earlier.append(b.attempt_line(current))
        current = by_id.get(current.parent_id or "")
    if not earlier:
        return ""
    return "## Earlier versions of this solution (do not repeat their mistakes)\n\n" + "\n".join(reversed(earlier))


def _fix_id(attempt: Attempt) -> str:
    root = re.sub(r"(?:-d\d+)+$", "", attempt.candidate_id)
    return f"{root}-d{attempt.debug_tries + 1}"


def debugger(state: RunState, ctx: RunContext) -> RunState:
    """-> {"pending": [fixed candidate, ...], "llm_calls": [...]}: one fix per `debuggable_attempts`
    attempt, id "<root id>-d<tries>", parent_id the failed candidate, origin "debug". A fix whose
    answers were unusable twice is left out; an empty "pending" means nothing is left to fix."""
    attempts = state.get("attempts") or []
    by_id = {a.candidate_id: a for a in attempts}
    targets = debuggable_attempts(state, ctx.budgets)
    if not targets:
        return {"pending": [], "llm_calls": []}
    system = b.load_prompt("debugger", ctx)
    shared = b.join(b.problem_brief(state, ctx), b.plan_brief(state))
    jobs, labels = [], []
    for attempt in targets:
        failed = b.join(
            f"## The rejected solution: {attempt.candidate_id}",
            b.fenced(attempt.source),
            f"## Verdict: {attempt.verdict}",
            "Reasons:\n" + b.reasons_brief(attempt),
            _lineage_brief(attempt, by_id),
            "Fix the solution.",
        )
        jobs.append([SystemMessage(system), HumanMessage(b.join(shared, failed))])
        labels.append({"round": state.get("iteration", 0), "candidate": _fix_id(attempt)})
    answers, calls, _ = _ask_each(ctx, "debugger", jobs, SOLUTION, labels)
    pending = []
    for attempt, answer in zip(targets, answers):
        if answer is None:
            continue
        pending.append(Candidate(id=_fix_id(attempt), source=answer[0], parent_id=attempt.candidate_id, origin="debug",
                                 iteration=state.get("iteration", 0), debug_tries=attempt.debug_tries + 1))
    return {"pending": pending, "llm_calls": calls}


# --- analyst -------------------------------------------------------------------------------------


def analyst(state: RunState, ctx: RunContext) -> RunState:
    """-> {"analysis": "BOTTLENECK: ...\\nEVIDENCE: ...\\nNEXT MOVES: ...", "llm_calls": [...]},
    plus "lessons": [{"title", "body"}, ...] when the answer has LESSON sections."""
    user = b.join(
        b.problem_brief(state, ctx),
        b.best_brief(state),
        b.profile_brief(state),
        b.history_brief(state),
        b.plan_brief(state),
        "Analyse the best solution.",
    )
    messages = [SystemMessage(b.load_prompt("analyst", ctx)), HumanMessage(user)]
    (analysis, lessons), calls = ask(ctx, "analyst", messages, ANALYSIS, {"round": state.get("iteration", 0)})
    update: RunState = {"analysis": analysis, "llm_calls": calls}
    if lessons:
        update["lessons"] = lessons
    return update
