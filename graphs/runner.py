"""Running the graph: start, resume, fork or replay a run, stream it into the trace, write the outputs.

Thread id = run id in LangGraph's SqliteSaver (HOME/checkpoints.db), so `--resume RUN_ID` after
a crash or `kill -9` continues from the last finished node: finished steps are not redone.
Each trace step records the checkpoint written right after it (the "checkpoints" stream), which
is where `--fork RUN_ID --from-step N` starts a new run from (graphs/traces/fork.py). `--replay RUN_ID`
runs again with the recorded LLM answers served from the trace (graphs/traces/replay.py).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from kernelwright.agents.context import Budgets, RunContext
from kernelwright.agents.cost import PriceTable
from kernelwright.agents.records import ApprovalRequest, ReplayCount, RunSummary, TokenUsage
from kernelwright.agents.records.run_state import CHECKPOINT_TYPES, RunState
from kernelwright.agents.registry import require_runnable, resolve_roles
from kernelwright.agents.structured import StructuredOutput
from kernelwright.configs import Config, RawConfig, load, merge, validate
from kernelwright.graphs.approval import ANSWER_HELP, APPROVABLE, Approval
from kernelwright.graphs.graph import build_graph
from kernelwright.graphs.nodes import RoleFailed, best_summary, check_options, first_state, run_report
from kernelwright.graphs.preflight import preflight
from kernelwright.graphs.routing import tokens_used
from kernelwright.graphs.step_events import StepEnd, StepError, StepStart
from kernelwright.graphs.traces.fork import ForkPoint, fork_config, fork_point, seed_fork, state_at
from kernelwright.graphs.traces.replay import ReplayChatModel, answers_of, one_request_at_a_time, replay_plan
from kernelwright.graphs.traces.store import TraceStore
from kernelwright.tools.check.reference_cache import ReferenceCache
from kernelwright.tools.check.verify import CheckOptions
from kernelwright.tools.devices import versions
from kernelwright.tools.home import require_writable
from kernelwright.tools.problem import InputError, load_problem
from kernelwright.tools.sqlite import open_sqlite


@dataclasses.dataclass
class RunRequest:
    problem: str | None
    home: Path
    config_path: str | None = None
    overrides: RawConfig = dataclasses.field(default_factory=dict)  # from CLI flags
    out: str | None = None
    resume: str | None = None
    progress: Callable[[str], None] | None = None
    # A LangChain chat model of the caller's own (any BaseChatModel) instead of the configured
    # OpenAI-compatible client: for embedding kernelwright in Python, and for scripted tests.
    chat_model: Any = None
    # Start from the state after step `from_step` of run `fork` (config_path and overrides change the rest).
    fork: str | None = None
    from_step: int | None = None
    replay: str | None = None  # re-execute this run with its recorded LLM answers
    # LangChain callback handlers for the whole run (LangSmith's tracer joins by itself when
    # LANGSMITH_TRACING=true): every node, candidate, LLM call and check reports to them.
    callbacks: list[Any] | None = None
    answer: str | None = None  # a person's answer to the approval a paused run waits for (`kernelwright resume`)
    # Asks a person (a terminal prompt) for each approval as it comes: request -> answer. None: pause.
    ask: Callable[[ApprovalRequest], str] | None = None


def choose_policy(config: Config) -> str:
    return config.effective_policy()


def approval_nodes(config: Config) -> tuple[str, ...]:
    """The config's `approve` list (validated by the config model), in the graph's order."""
    return tuple(n for n in APPROVABLE if n in config.approve)


def make_context(config: Config, needs_model: bool, problem_path: Path, run_dir: Path, home: Path, progress, chat_model: Any = None) -> RunContext:
    if needs_model and chat_model is None:
        if not config.model:
            raise InputError("the llm policy needs a model: pass --model NAME or set KERNELWRIGHT_MODEL")
        from kernelwright.agents.llm import make_chat_model

        chat_model = make_chat_model(
            config.model, config.base_url, api_key_env=config.api_key_env, timeout_s=config.timeout_s, max_retries=config.max_retries,
            temperature=config.temperature, streaming=config.streaming, max_tokens=config.max_output_tokens,
        )
    budgets = Budgets(**config.budgets.model_dump())
    prices = PriceTable.from_config(config.llm.model_dump()["prices"])
    if budgets.max_cost_usd is not None and needs_model and prices.price_of(config.model) is None:
        raise InputError(f"--max-cost needs a price for model {config.model!r}: add it under llm.prices in the config "
                         "({input: USD, output: USD} per million tokens)")
    structured = StructuredOutput(config.llm.structured, chat_model)
    role_options = {name: dict(spec.options) for name, spec in config.roles.items()}
    from kernelwright.agents.conditions import problem_conditions
    from kernelwright.memory.retrieval import lesson_source
    from kernelwright.memory.store import MemoryStore

    memory = MemoryStore.in_home(home)
    check = CheckOptions(**{**config.check.model_dump(), "compile_baselines": tuple(config.check.compile_baselines)},
                         # The run's reference outputs: computed by its first check, reused by the others.
                         sandbox=config.sandbox, reference_cache=ReferenceCache())
    return RunContext(
        # Retrieval keeps to lessons for this problem's op family and dtype (and those for any).
        memory=memory, lessons=lesson_source(memory, **problem_conditions(problem_path.read_text())),
        problem_path=problem_path, run_dir=run_dir, home=home, chat_model=chat_model, model_name=config.model,
        candidates=config.candidates, budgets=budgets, check=check, profile=config.profile,
        role_options=role_options, progress=progress, structured=structured, prices=prices,
        approve=approval_nodes(config),
    )


def checkpoint_saver(conn) -> SqliteSaver:
    """A saver on an open checkpoints.db connection. The state's records are pydantic models:
    named to the serializer so it loads them back (without a warning, and before LangGraph blocks
    unnamed types)."""
    return SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))


def _checkpointer(home: Path) -> SqliteSaver:
    made: list[SqliteSaver] = []

    def setup(conn) -> None:  # the saver that made its tables is the one used: it remembers it did
        made.append(checkpoint_saver(conn))
        made[0].setup()

    open_sqlite(home / "checkpoints.db", setup=setup)
    return made[0]


def run_config(run_id: str, problem_file: str, policy: str, config: Config, callbacks: list[Any] | None) -> RunnableConfig:
    """The LangGraph config of a run: its thread, and the name, tags and metadata every traced call
    inherits (LangSmith files the run's tree under them)."""
    problem = Path(problem_file).stem
    out: RunnableConfig = {
        "configurable": {"thread_id": run_id}, "recursion_limit": 10_000, "run_name": f"kernelwright {problem}",
        "tags": ["kernelwright", f"policy:{policy}", f"problem:{problem}"],
        "metadata": {"kernelwright_run": run_id, "problem": problem, "policy": policy, "model": config.model},
    }
    if callbacks:
        out["callbacks"] = list(callbacks)
    return out


def new_run_id(problem_name: str) -> str:
    return f"{problem_name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


@dataclasses.dataclass
class _Start:
    run_id: str
    problem_file: str
    config: Config
    resume: bool = False
    fork: ForkPoint | None = None
    replay_of: str | None = None
    chat_model: Any = None


def _start(req: RunRequest, trace: TraceStore | None) -> _Start:
    """Where the run begins: a new run, a resumed one, a fork or a replay. InputError for bad input.
    `trace` is None when the home has no traces.db yet (then only a new run can start)."""
    given = [flag for flag, value in (("--resume", req.resume), ("--fork", req.fork), ("--replay", req.replay)) if value]
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)} exclude each other: give one of them")
    if given and trace is None:
        raise InputError(f"{given[0]} {req.resume or req.fork or req.replay}: no runs are recorded in {req.home} "
                         "(pass the --home the run used; see `kernelwright traces list`)")
    if req.from_step is not None and not req.fork:
        raise InputError("--from-step N goes with --fork RUN_ID")
    if (req.fork or req.replay) and req.problem:
        raise InputError(f"{given[0]} runs the recorded run's problem: drop PROBLEM ({req.problem})")
    if req.replay and (req.config_path or req.overrides):
        raise InputError("--replay runs the recorded config as it was: drop --config and the config flags (use --fork to change them)")
    if req.resume:
        stored = trace.run(req.resume)
        if stored is None:
            raise InputError(f"--resume {req.resume}: no such run in {req.home / 'traces.db'} (see `kernelwright traces list`)")
        chat_model = req.chat_model
        source = trace.run(stored.replay_of) if stored.replay_of and chat_model is None else None
        if source:
            chat_model = answers_of(trace, source, skip_from=stored)
        config = validate(merge(stored.config, req.overrides), f"run {req.resume}")
        return _Start(req.resume, stored.problem, config, resume=True, replay_of=stored.replay_of, chat_model=chat_model)
    if req.replay:
        plan = replay_plan(trace, req.replay)
        return _Start(new_run_id(Path(plan.problem).stem), plan.problem, validate(plan.config, f"run {req.replay}"), fork=plan.fork, replay_of=req.replay, chat_model=plan.chat_model)
    if req.fork:
        point = fork_point(trace, req.fork, req.from_step)
        stored = trace.run(req.fork)
        config = validate(fork_config(stored, req.config_path, req.overrides), f"run {req.fork} with the changes")
        return _Start(new_run_id(Path(stored.problem).stem), stored.problem, config,
                      fork=point, chat_model=req.chat_model)
    if not req.problem:
        raise InputError("give a PROBLEM file, or --resume RUN_ID, --fork RUN_ID --from-step N or --replay RUN_ID")
    problem_file = str(load_problem(req.problem).path)
    config = load(req.config_path, req.overrides).config
    return _Start(new_run_id(Path(problem_file).stem), problem_file, config, chat_model=req.chat_model)


def execute(req: RunRequest) -> RunSummary:
    """Start (resume, fork or replay) a run and drive it to its end. Raises InputError for bad input only.

    Everything that can be checked is checked before anything is written (the home, the config,
    the problem, the roles, the device, the endpoint); then the databases and the run folder."""
    require_writable(req.home)
    traces_db = req.home / "traces.db"
    existing = TraceStore(traces_db) if traces_db.exists() else None
    start = _start(req, existing)
    run_id, problem_file, config = start.run_id, start.problem_file, start.config
    policy = "llm" if start.chat_model is not None and config.policy == "auto" else choose_policy(config)
    roles, added = resolve_roles(policy, config.roles, where=req.config_path or "config")
    require_runnable(roles)
    run_dir = Path(req.out) if req.out else req.home / "runs" / run_id
    # Only built-in LLM roles need an endpoint: a config may replace every role with its own.
    needs_model = any(spec.source == "built-in (llm)" for spec in [*roles.values(), *added])
    preflight(config, probe=needs_model and start.chat_model is None)
    trace = existing or TraceStore(traces_db)
    ctx = make_context(config, needs_model, Path(problem_file), run_dir, req.home, req.progress, start.chat_model)
    if start.replay_of:
        ctx.role_options = one_request_at_a_time(ctx.role_options, [*roles, *(spec.name for spec in added)])
    compiled = build_graph(roles, added, ctx.budgets, ctx.approve).compile(checkpointer=_checkpointer(req.home))
    graph_config = run_config(run_id, problem_file, policy, config, req.callbacks)
    # Read the fork's state before the run is recorded: a missing checkpoint is bad input.
    fork_values = state_at(compiled, start.fork) if start.fork else None
    if not start.resume:
        trace.start_run(run_id, problem_file, policy, config.model, config, config.check.device, versions(),
                        forked_from=start.fork.origin() if start.fork else None, replay_of=start.replay_of)
    inputs: Any = None
    waiting = pending_request(compiled, graph_config) if start.resume else None
    if req.answer is not None and waiting is None:
        raise InputError(f"--answer: run {run_id} is not waiting for an approval (see `kernelwright traces show {run_id}`)")
    if waiting is not None:
        answer = req.answer if req.answer is not None else (req.ask(waiting) if req.ask else None)
        if answer is None:
            raise InputError(f"run {run_id} waits for a person to approve its {waiting.approve}: "
                             f"kernelwright resume {run_id} --answer '{ANSWER_HELP}'")
        inputs = Command(resume=Approval.parse(answer).to_dict())
    if start.fork:
        seed_fork(compiled, graph_config, start.fork, fork_values, run_id, trace)
        ctx.say(f"forked {start.fork.run_id} after step {start.fork.step} ({start.fork.node}) as {run_id}")
    elif not start.resume:
        inputs = first_state(run_id, Path(problem_file))
    began = time.monotonic()
    try:
        error = _stream(compiled, inputs, graph_config, ctx, trace, run_id, req.progress)
        # A person at a terminal answers each approval as it comes; otherwise the run pauses.
        while not error and req.ask is not None and (waiting := pending_request(compiled, graph_config)) is not None:
            answer = Approval.parse(req.ask(waiting))
            error = _stream(compiled, Command(resume=answer.to_dict()), graph_config, ctx, trace, run_id, req.progress)
    finally:
        ctx.check.reference_cache.close()
    state = compiled.get_state(graph_config).values
    if error and not isinstance(error, BadInputMidRun) and not state.get("attempts"):
        error = broken_reference(ctx, problem_file) or error
    waiting = None if error else pending_request(compiled, graph_config)
    best = state.get("best")
    status = "failed" if error else "paused" if waiting else state.get("status", "running")
    summary_best = best_summary(best)
    trace.finish_run(run_id, status, state.get("stop_reason"), summary_best if best else None,
                     time.monotonic() - began, str(error) if error else None)
    stored = trace.run(run_id)
    solution = run_dir / "solution.py"
    replayed = start.chat_model if isinstance(start.chat_model, ReplayChatModel) else None
    summary = RunSummary(
        run_id=run_id,
        status=status,
        accepted=best is not None and not error,
        solution_path=str(solution) if best and solution.exists() else None,
        best=summary_best,
        usage=stored.usage if stored else TokenUsage(total_tokens=tokens_used(state)),
        stop_reason=state.get("stop_reason"),
        error=str(error) if error else None,
        run_dir=str(run_dir),
        forked_from=stored.forked_from if stored else None,
        replay=ReplayCount(of=start.replay_of, answers_served=replayed.served() if replayed else 0,
                           answers_recorded=replayed.total() if replayed else 0) if start.replay_of else None,
        awaiting=waiting,
    )
    if error:
        write_failed_report(run_dir, summary, state)
    if isinstance(error, BadInputMidRun):
        raise InputError(f"{error} (run {run_id} is recorded as failed: {run_dir / 'report.json'})")
    return summary


def write_failed_report(run_dir: Path, summary: RunSummary, state: RunState) -> None:
    """The report of a run that ended in an error (the finish node, which writes it otherwise, did
    not run): the path the command prints must exist."""
    run_dir.mkdir(parents=True, exist_ok=True)
    report = run_report(RunState(**state), summary.stop_reason, error=summary.error)
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2))


def pending_request(compiled, graph_config: RunnableConfig) -> ApprovalRequest | None:
    """What a paused run waits for a person to approve (graphs/approval.py), or None."""
    interrupts = compiled.get_state(graph_config).interrupts
    return ApprovalRequest.model_validate(interrupts[0].value) if interrupts else None


class BadInputMidRun(str):
    """The error of a run ended by bad input that only running could find: the run is recorded as
    failed, its report written, and the command exits 2 as `check` does for the same input."""


def broken_reference(ctx: RunContext, problem_file: str) -> BadInputMidRun | None:
    """A run whose roles failed before any candidate reached a check (the expert policy cannot
    trace a model whose forward raises): run the reference as check would, so that a broken problem
    is bad input here too. None when the reference runs (the role's own error stands) or the
    probe cannot tell."""
    from kernelwright.tools.check.reference_probe import require_reference_runs

    ctx.say("no candidate was checked: running the problem's reference alone to see whether it works")
    try:
        require_reference_runs(problem_file, check_options(ctx))
    except InputError as exc:
        return BadInputMidRun(str(exc))
    except Exception:  # noqa: BLE001 - a checker failure is no verdict on the problem: the role's error stands
        return None
    return None


def _stream(compiled, inputs, graph_config, ctx: RunContext, trace: TraceStore, run_id: str, progress) -> str | None:
    """Drive the graph, writing one trace step per node execution; the error that ended it, if any."""
    starts: dict[str, StepStart] = {}
    durations: dict[str, float] = {}
    unsaved: list[int] = []  # steps whose checkpoint is not written yet (it follows their update)
    try:
        for mode, chunk in compiled.stream(inputs, graph_config, context=ctx, stream_mode=["custom", "updates", "checkpoints"]):
            if mode == "checkpoints":
                if unsaved:
                    saved = chunk["config"]["configurable"]
                    trace.set_checkpoint(run_id, unsaved, saved.get("thread_id", run_id), saved["checkpoint_id"])
                    unsaved = []
                continue
            if mode == "custom":
                if isinstance(chunk, StepStart):
                    starts[chunk.node] = chunk
                    durations.pop(chunk.node, None)
                elif isinstance(chunk, StepEnd):
                    durations[chunk.node] = chunk.duration_s
                elif isinstance(chunk, StepError):
                    start = starts.get(chunk.node)
                    trace.add_step(run_id, chunk.node, chunk.role, start.started_at if start else time.time(), chunk.duration_s,
                                   {"llm_calls": chunk.llm_calls}, chunk.error)
                continue
            for node, update in chunk.items():
                if node == "__interrupt__":  # a pause for approval, not a step (the approval node records the answer)
                    continue
                start = starts.get(node)
                unsaved.append(trace.add_step(run_id, node, start.role if start else None, start.started_at if start else time.time(),
                                              durations.get(node, 0.0), update))
                if progress and node == "check" and not (update or {}).get("attempts"):
                    progress("[check] nothing to check: the round's roles wrote no new candidate")
                elif progress:
                    state = compiled.get_state(graph_config).values
                    best = state.get("best")
                    progress(f"[{node}] round {state.get('iteration', 0)}; best: {best.candidate_id + ' ' + str(best.speedup or 'accepted') if best else 'none yet'}")
    except RoleFailed as exc:
        return str(exc)
    except InputError as exc:  # found only by running (the reference raises in a check): still bad input
        return BadInputMidRun(str(exc))
    return None
