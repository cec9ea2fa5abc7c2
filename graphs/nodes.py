"""The graph's nodes: role nodes (planner, coder, ... and plugins) and the tool nodes that need no
LLM (check, profile, finish). Nodes take `(state, runtime)`; run-scoped things come from
`runtime.context` (a RunContext)."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

from langgraph.config import get_stream_writer
from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime
from pydantic_core import to_jsonable_python

from kernelwright.agents.context import RunContext
from kernelwright.agents.records import (
    Attempt,
    BestSummary,
    Candidate,
    CheckFacts,
    ProblemSummary,
    Profile,
    Reason,
    Report,
    RunUsage,
)
from kernelwright.agents.records.report import AttemptSummary
from kernelwright.agents.records.run_state import RunState, validated_update
from kernelwright.agents.tracing import ContextThreadPoolExecutor, candidate_run, tool_run
from kernelwright.graphs.step_events import StepEnd, StepError, StepEvent, StepStart
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.problem import InputError


class RoleFailed(Exception):
    """A role raised: the run ends with this error; the checkpoint before the node stays valid."""


def _emit(event: StepEvent) -> None:
    try:
        get_stream_writer()(event)
    except RuntimeError:  # outside a streaming run (direct node calls in tests)
        pass


def timed(node: str, role: str | None, body):
    """Wrap a node body: step events for the trace, elapsed time for the wall budget."""

    def run(state: RunState, runtime: Runtime[RunContext]) -> RunState:
        began, wall = time.monotonic(), time.time()
        _emit(StepStart(node, role, wall))
        ctx, seeded = served_context(state, runtime.context)
        state = {**state, **seeded}
        try:
            update = validated_update({**seeded, **(body(state, ctx) or {})})
        except GraphBubbleUp:
            raise  # an approval's interrupt: LangGraph pauses the run here, nothing failed
        except Exception as exc:
            # A failed LLM role still spent tokens: its exchanges go into the trace with the error.
            calls = [to_jsonable_python(call) for call in getattr(exc, "llm_calls", []) or []]
            _emit(StepError(node, role, f"{type(exc).__name__}: {exc}", time.monotonic() - began, calls))
            if isinstance(exc, (RoleFailed, InputError)):
                raise
            raise RoleFailed(f"{node} ({role or 'tool'}) raised {type(exc).__name__}: {exc}") from exc
        duration = time.monotonic() - began
        update["elapsed_s"] = state.get("elapsed_s", 0.0) + duration
        _emit(StepEnd(node, role, duration))
        return update

    run.__name__ = f"node_{node}"
    return run


def first_state(run_id: str, problem_path: Path) -> RunState:
    """The state a run starts from."""
    return {"run_id": run_id, "problem": problem_summary(problem_path), "iteration": 0, "status": "running", "pending": [],
            "best": None, "debugged": [], "lessons": [], "best_iteration": 0, "elapsed_s": 0.0, "plan": None, "analysis": None}


def served_context(state: RunState, context: object) -> tuple[RunContext, RunState]:
    """The node's RunContext, and the state a run served by the LangGraph server starts from:
    there the context is the JSON `StudioContext` (graphs/studio.py) and the input may be empty."""
    if isinstance(context, RunContext):
        return context, {}
    from langgraph.config import get_config

    from kernelwright.graphs.studio import StudioSettings

    # The policy and approvals the factory built the graph with (make_graph).
    settings = StudioSettings.of(get_config())
    run_id = settings.thread_id or "studio"
    ctx = context.run_context(run_id, settings.policy, settings.approve)
    return ctx, ({} if state.get("problem") else first_state(run_id, ctx.problem_path))


def role_body(spec):
    def body(state: RunState, ctx: RunContext) -> RunState:
        if spec.node == "plan":
            # A new round starts here; the planner already sees its number.
            state = {**state, "iteration": state.get("iteration", 0) + 1}
        update = validated_update(dict(spec.fn(state, ctx) or {}))
        if spec.node == "plan":
            update["iteration"] = state["iteration"]
        if spec.node == "analyze" and update.get("lessons"):
            from kernelwright.graphs.learning import learn_from_analysis

            learn_from_analysis(ctx.memory, state, update["lessons"])
        if spec.node == "debug":
            # Each failure goes to the debugger once, fix or no fix: the debug loop always ends.
            from kernelwright.agents.attempts import debuggable_attempts

            update["debugged"] = [a.candidate_id for a in debuggable_attempts(state, ctx.budgets)]
        return update

    return body


# -- check ------------------------------------------------------------------------------------

def check_options(ctx: RunContext) -> CheckOptions:
    """The run's check options (config `check:` and `sandbox:`, the run's reference cache) with the
    run's home, as `verify_solution` takes them: a copy, so the context's own stays as built."""
    return dataclasses.replace(ctx.check, home=ctx.home)


def _attempt(candidate: Candidate, result, source: str) -> Attempt:
    timing = result.timing or {}
    return Attempt(
        candidate_id=candidate.id,
        parent_id=candidate.parent_id,
        iteration=candidate.iteration,
        origin=candidate.origin,
        debug_tries=candidate.debug_tries,
        applied_lessons=candidate.applied_lessons,
        source_sha=hashlib.sha256(source.encode()).hexdigest()[:16],
        source=source,
        verdict=result.verdict.value,
        accepted=result.accepted,
        reasons=tuple(Reason(**r.to_dict()) for r in result.reasons[:5]),
        speedup=result.speedup,
        median_ms=(timing.get("candidate") or {}).get("median_ms"),
        max_abs_err=result.max_abs_err,
        check=CheckFacts(arch=(result.versions or {}).get("sm"), timing=result.timing, roofline=result.roofline, resources=result.resources,
                         launches=result.launches, wall_s=result.wall_s, isolation=result.isolation),
        kernel=candidate.kernel,
    )


def better(new: Attempt, best: Attempt | None) -> bool:
    """A new accepted attempt replaces the best only if measurably faster (never a regression)."""
    if not new.accepted:
        return False
    if best is None:
        return True
    if new.median_ms is None or best.median_ms is None:
        return False  # no timing (CPU): the first accepted solution stays
    return new.median_ms < best.median_ms


def check_body(state: RunState, ctx: RunContext) -> RunState:
    pending = state.get("pending", [])
    folder = ctx.run_dir / "candidates"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for cand in pending:
        path = folder / f"{cand.id}.py"
        path.write_text(cand.source)
        paths.append(path)
    opts = check_options(ctx)

    def one(item):
        cand, path = item
        labels = {"problem": ctx.problem_path.stem, "round": cand.iteration, "candidate": cand.id}

        def check():
            return tool_run("check", labels, {"problem": str(ctx.problem_path), "solution": str(path)},
                            lambda: verify_solution(ctx.problem_path, path, opts), lambda r: f"{r.verdict.value}")

        return _attempt(cand, candidate_run(labels, check), cand.source)

    # On a GPU candidates are timed one after another: parallel timing would measure contention.
    # The pool copies the node's context into its threads: the checks stay in the run's trace tree.
    workers = len(pending) if str(opts.device) == "cpu" else 1
    with ContextThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        attempts = list(pool.map(one, list(zip(pending, paths))))
    from kernelwright.graphs.learning import learn_from_check, record_lesson_outcomes

    attempts = record_lesson_outcomes(ctx.memory, state, attempts)
    learn_from_check(ctx.memory, state, attempts)
    best, best_iteration = state.get("best"), state.get("best_iteration", 0)
    for a in attempts:
        ctx.say(f"check {a.candidate_id}: {a.verdict}" + (f" ({a.speedup})" if a.speedup else ""))
        if better(a, best):
            best, best_iteration = a, a.iteration
    return {"attempts": attempts, "pending": [], "best": best, "best_iteration": best_iteration}


# -- profile ------------------------------------------------------------------------------------

def profile_body(state: RunState, ctx: RunContext) -> RunState:
    """The best solution's profile, by `kernelwright.tools.profile.tiers` (the `profile` command's code):
    on the CPU the static tier and the roofline, reusing the check's sm_90 resources; on a GPU the
    best tier within the config's profile.budget_s (ncu replays every kernel many times). The check's timing rides along. A profiling fault never
    ends the run: the check's record stands in, with the reason in `missing`."""
    from kernelwright.tools.profile.tiers import ProfileOptions, profile_solution

    best = state.get("best")
    check = best.check if best else CheckFacts()
    base = {"candidate_id": best.candidate_id if best else None, "timing": check.timing, "resources": check.resources, "launches": check.launches}

    def from_check(why: str) -> RunState:
        return {"profile": Profile(**base, tier="check", roofline=check.roofline, missing=(why,))}

    if best is None or not best.source:
        return from_check("no accepted solution to profile")
    if ctx.profile.tier == "off":  # e.g. a one-round bench, where no later round would read it
        return from_check("profiling off (config profile.tier)")
    path = ctx.run_dir / "candidates" / f"{best.candidate_id}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(best.source)
    opts = ProfileOptions(device=ctx.check.device, timeout_s=ctx.check.timeout_s, tier=ctx.profile.tier, budget_s=ctx.profile.budget_s,
                          home=ctx.home, progress=ctx.progress)
    try:
        found = profile_solution(ctx.problem_path, path, opts, known={"resources": check.resources, "median_ms": best.median_ms})
    except Exception as exc:  # noqa: BLE001 - the run goes on with what the check measured
        return from_check(f"profile failed: {type(exc).__name__}: {exc}")
    merged = {**found, **{k: v for k, v in base.items() if v is not None or k not in found}}
    merged["resources"] = found.get("resources") or check.resources
    return {"profile": Profile(**merged)}


# -- finish -------------------------------------------------------------------------------------

def finish_body(state: RunState, ctx: RunContext) -> RunState:
    from kernelwright.graphs.routing import stop_reason

    budgets_reason = stop_reason(state, ctx.budgets) or "no candidate left to try"
    best = state.get("best")
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    if best:
        (ctx.run_dir / "solution.py").write_text(best.source)
    report = run_report(state, budgets_reason)
    (ctx.run_dir / "report.json").write_text(report.model_dump_json(indent=2))
    return {"status": "finished", "stop_reason": budgets_reason}


def run_report(state: RunState, stop_reason: str | None, error: str | None = None) -> Report:
    """report.json: the finish node's, or (with `error`) the runner's for a run an error ended."""
    from kernelwright.graphs.routing import cost_used, tokens_used

    best = state.get("best")
    problem = state.get("problem")
    return Report(
        run_id=state.get("run_id"),
        problem=problem.path if problem else None,
        status="failed" if error else "finished",
        accepted=best is not None and not error,
        stop_reason=stop_reason,
        error=error,
        iterations=state.get("iteration", 0),
        best=best_summary(best, with_sol=True),
        attempts=tuple(AttemptSummary(candidate_id=a.candidate_id, parent_id=a.parent_id, iteration=a.iteration, origin=a.origin,
                                      verdict=a.verdict, speedup=a.speedup, median_ms=a.median_ms) for a in state.get("attempts", [])),
        usage=RunUsage(total_tokens=tokens_used(state), cost_usd=cost_used(state), llm_calls=len(state.get("llm_calls", []))),
    )


def best_summary(best: Attempt | None, with_sol: bool = False) -> BestSummary | None:
    """The best attempt as the report and the run summary show it (`pct_of_sol` in the report)."""
    if best is None:
        return None
    sol = (best.check.roofline or {}).get("pct_of_sol") if with_sol else None
    return BestSummary(candidate_id=best.candidate_id, verdict=best.verdict, speedup=best.speedup, median_ms=best.median_ms,
                       max_abs_err=best.max_abs_err, pct_of_sol=sol if isinstance(sol, (int, float)) else None)


def problem_summary(path: Path) -> ProblemSummary:
    from kernelwright.tools.problem import load_problem

    p = load_problem(path)
    return ProblemSummary(path=str(p.path), name=p.name, source=p.file.source, constants=p.constants)
