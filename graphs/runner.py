"""Running the graph: start or resume a run, stream it into the trace, write the outputs.

Thread id = run id in LangGraph's SqliteSaver (HOME/checkpoints.db), so `--resume RUN_ID` after
a crash or `kill -9` continues from the last finished node: finished steps are not redone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from kernelwright.agents.registry import require_runnable, resolve_roles
from kernelwright.configs import load_config, merge
from kernelwright.graphs.context import Budgets, RunContext
from kernelwright.graphs.graph import build_graph
from kernelwright.graphs.nodes import RoleFailed, problem_summary
from kernelwright.graphs.routing import tokens_used
from kernelwright.graphs.trace import TraceStore
from kernelwright.tools.devices import versions
from kernelwright.tools.problem import InputError, load_problem


@dataclasses.dataclass
class RunRequest:
    problem: str | None
    home: Path
    config_path: str | None = None
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)  # from CLI flags
    out: str | None = None
    resume: str | None = None
    progress: Callable[[str], None] | None = None
    # A LangChain chat model of the caller's own (any BaseChatModel) instead of the configured
    # OpenAI-compatible client: for embedding kernelwright in Python, and for scripted tests.
    chat_model: Any = None


@dataclasses.dataclass
class RunSummary:
    run_id: str
    status: str
    accepted: bool
    solution_path: str | None
    best: dict[str, Any] | None
    usage: dict[str, int]
    stop_reason: str | None
    error: str | None
    run_dir: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def choose_policy(config: dict[str, Any]) -> str:
    policy = config.get("policy") or "auto"
    if policy == "auto":
        return "llm" if config.get("model") else "expert"
    return policy


def make_context(config: dict[str, Any], needs_model: bool, problem_path: Path, run_dir: Path, home: Path, progress, chat_model: Any = None) -> RunContext:
    if needs_model and chat_model is None:
        if not config.get("model"):
            raise InputError("the llm policy needs a model: pass --model NAME or set KERNELWRIGHT_MODEL")
        from kernelwright.agents.llm import make_chat_model

        chat_model = make_chat_model(
            config["model"], config.get("base_url"), api_key_env=config.get("api_key_env") or "OPENAI_API_KEY",
            timeout_s=config.get("timeout_s", 120), max_retries=config.get("max_retries", 3),
            temperature=config.get("temperature"), streaming=bool(config.get("streaming")), max_tokens=config.get("max_output_tokens"),
        )
    fields = {f.name for f in dataclasses.fields(Budgets)}
    budgets = Budgets(**{k: v for k, v in (config.get("budgets") or {}).items() if k in fields})
    role_options = {name: spec.get("options") or {} for name, spec in (config.get("roles") or {}).items()}
    from kernelwright.memory.retrieval import lesson_source
    from kernelwright.memory.store import MemoryStore

    memory = MemoryStore.in_home(home)
    return RunContext(
        memory=memory, lessons=lesson_source(memory),
        problem_path=problem_path, run_dir=run_dir, home=home, chat_model=chat_model, model_name=config.get("model"),
        candidates=int(config.get("candidates") or 1), budgets=budgets, check=dict(config.get("check") or {}),
        role_options=role_options, progress=progress,
    )


def _checkpointer(home: Path) -> SqliteSaver:
    home.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(home / "checkpoints.db", check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return SqliteSaver(conn)


def new_run_id(problem_name: str) -> str:
    return f"{problem_name}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def execute(req: RunRequest) -> RunSummary:
    """Start (or resume) a run and drive it to its end. Raises InputError for bad input only."""
    trace = TraceStore(req.home / "traces.db")
    if req.resume:
        stored = trace.run(req.resume)
        if stored is None:
            raise InputError(f"--resume {req.resume}: no such run in {req.home / 'traces.db'} (see `kernelwright traces list`)")
        run_id, problem_file = req.resume, stored["problem"]
        config = merge(json.loads(stored["config"]), req.overrides)
    else:
        if not req.problem:
            raise InputError("give a PROBLEM file, or --resume RUN_ID")
        problem_file = str(load_problem(req.problem).path)
        config = merge(load_config(req.config_path), req.overrides)
        if not config.get("model") and os.environ.get("KERNELWRIGHT_MODEL"):
            config["model"] = os.environ["KERNELWRIGHT_MODEL"]
        run_id = new_run_id(Path(problem_file).stem)
    policy = "llm" if req.chat_model is not None and (config.get("policy") or "auto") == "auto" else choose_policy(config)
    roles, added = resolve_roles(policy, config.get("roles") or {}, where=req.config_path or "config")
    require_runnable(roles)
    run_dir = Path(req.out) if req.out else req.home / "runs" / run_id
    # Only built-in LLM roles need an endpoint: a config may replace every role with its own.
    needs_model = any(spec.source == "built-in (llm)" for spec in [*roles.values(), *added])
    ctx = make_context(config, needs_model, Path(problem_file), run_dir, req.home, req.progress, req.chat_model)
    if not req.resume:
        trace.start_run(run_id, problem_file, policy, config.get("model"), config, str(ctx.check.get("device", "auto")), versions())
    compiled = build_graph(roles, added, ctx.budgets).compile(checkpointer=_checkpointer(req.home))
    graph_config = {"configurable": {"thread_id": run_id}, "recursion_limit": 10_000}
    inputs = None
    if not req.resume:
        inputs = {"run_id": run_id, "problem": problem_summary(Path(problem_file)), "iteration": 0, "status": "running",
                  "pending": [], "best": None, "debugged": [], "lessons": [], "best_iteration": 0, "elapsed_s": 0.0, "plan": None, "analysis": None}
    began = time.monotonic()
    error = None
    starts: dict[str, dict[str, Any]] = {}
    try:
        for mode, chunk in compiled.stream(inputs, graph_config, context=ctx, stream_mode=["custom", "updates"]):
            if mode == "custom":
                if "step_start" in chunk:
                    starts[chunk["step_start"]] = chunk
                elif "step_end" in chunk:
                    starts[chunk["step_end"]]["duration_s"] = chunk["duration_s"]
                elif "step_error" in chunk:
                    start = starts.get(chunk["step_error"], {})
                    trace.add_step(run_id, chunk["step_error"], chunk.get("role"), start.get("started_at", time.time()), chunk["duration_s"],
                                   {"llm_calls": chunk.get("llm_calls", [])}, chunk["error"])
                continue
            for node, update in chunk.items():
                start = starts.get(node, {})
                trace.add_step(run_id, node, start.get("role"), start.get("started_at", time.time()), start.get("duration_s", 0.0), update)
                if req.progress:
                    state = compiled.get_state(graph_config).values
                    best = state.get("best")
                    req.progress(f"[{node}] round {state.get('iteration', 0)}; best: {best['candidate_id'] + ' ' + str(best.get('speedup') or 'accepted') if best else 'none yet'}")
    except RoleFailed as exc:
        error = str(exc)
    state = compiled.get_state(graph_config).values
    best = state.get("best")
    status = "failed" if error else state.get("status", "running")
    summary_best = {k: best[k] for k in ("candidate_id", "verdict", "speedup", "median_ms", "max_abs_err")} if best else None
    trace.finish_run(run_id, status, state.get("stop_reason"), summary_best, time.monotonic() - began, error)
    stored = trace.run(run_id)
    solution = run_dir / "solution.py"
    return RunSummary(
        run_id=run_id,
        status=status,
        accepted=best is not None and not error,
        solution_path=str(solution) if best and solution.exists() else None,
        best=summary_best,
        usage=json.loads(stored["usage"]) if stored and stored["usage"] else {"total_tokens": tokens_used(state)},
        stop_reason=state.get("stop_reason"),
        error=error,
        run_dir=str(run_dir),
    )
