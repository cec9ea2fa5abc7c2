"""The trace store: one row per run, one per node execution (step), in HOME/traces.db.

Written as the graph streams, so a killed run keeps every step it finished. The CLI's
`traces` commands read it; LangGraph's checkpoints (HOME/checkpoints.db) hold resumable state.
Each finished step names the checkpoint that holds the state right after it (`checkpoint_thread`,
`checkpoint_id`): `run --fork RUN --from-step N` starts from there. A run records where it came
from: `forked_from` ({"run_id", "step"}: its steps 0..N are copies of that run's) and
`replay_of` (the run whose recorded LLM answers it was served).

Schema changes are numbered migrations (PRAGMA user_version), each safe to re-apply, so a
traces.db written by an older version opens and gains the new columns.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import sqlite_utils
from pydantic_core import to_jsonable_python

from kernelwright.agents.records import BestSummary, ForkOrigin, Measurements, TokenUsage, Usage
from kernelwright.agents.records.run_state import RunState
from kernelwright.configs import Config
from kernelwright.graphs.traces.records import RooflineDigest, StoredJson, TraceRun, TraceStep
from kernelwright.tools.sqlite import open_sqlite


def _open(path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(open_sqlite(path, setup=lambda conn: _setup(sqlite_utils.Database(conn))))


def _setup(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {"run_id": str, "problem": str, "policy": str, "model": str, "config": str, "device": str,
         "versions": str, "status": str, "stop_reason": str, "error": str, "accepted": int,
         "best": str, "usage": str, "created_at": float, "updated_at": float, "wall_s": float},
        pk="run_id", if_not_exists=True,
    )
    db["steps"].create(
        {"run_id": str, "idx": int, "node": str, "role": str, "started_at": float, "duration_s": float,
         "summary": str, "llm": str, "tools": str, "candidates": str, "verdicts": str, "error": str},
        pk=("run_id", "idx"), if_not_exists=True,
    )
    _migrate(db)


# Migration n (1-based) adds these TEXT columns. Append only; never edit a released one.
MIGRATIONS: tuple[dict[str, tuple[str, ...]], ...] = (
    {"runs": ("forked_from", "replay_of"), "steps": ("checkpoint_thread", "checkpoint_id")},  # 1: fork and replay
)


def _migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    if conn.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS):
        return
    # IMMEDIATE: a second process opening the same old file waits here, then finds the work done.
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, tables in enumerate(MIGRATIONS[version:], start=version + 1):
            for table, columns in tables.items():
                have = {row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")}
                for column in columns:
                    if column not in have:
                        conn.execute(f"ALTER TABLE [{table}] ADD COLUMN [{column}] TEXT")
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _usage(calls: list[StoredJson]) -> TokenUsage:
    """Tokens summed, and `cost_usd` where some call had a price (llm.prices). `calls`: LLM call
    records in their JSON form, as the steps' `llm` column holds them."""
    from kernelwright.agents.cost import total_cost

    usages = [Usage.model_validate(call.get("usage") or {}) for call in calls]
    return TokenUsage(prompt_tokens=sum(u.prompt_tokens for u in usages), completion_tokens=sum(u.completion_tokens for u in usages),
                      total_tokens=sum(u.total_tokens for u in usages), cost_usd=total_cost(call.get("cost_usd") for call in calls))


def add_usage(old: TokenUsage, new: TokenUsage) -> TokenUsage:
    cost = None if old.cost_usd is None and new.cost_usd is None else (old.cost_usd or 0.0) + (new.cost_usd or 0.0)
    return TokenUsage(prompt_tokens=old.prompt_tokens + new.prompt_tokens, completion_tokens=old.completion_tokens + new.completion_tokens,
                      total_tokens=old.total_tokens + new.total_tokens, cost_usd=cost)


def _usage_json(usage: TokenUsage) -> str:
    return usage.model_dump_json(exclude_none=True)  # no cost_usd key when no call had a price


class TraceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = _open(path)

    def start_run(self, run_id: str, problem: str, policy: str, model: str | None, config: Config, device: str, versions: dict[str, str],
                  forked_from: ForkOrigin | None = None, replay_of: str | None = None) -> None:
        now = time.time()
        self.db["runs"].upsert(
            {"run_id": run_id, "problem": problem, "policy": policy, "model": model or "", "config": json.dumps(config.model_dump(mode="json")),
             "device": device, "versions": json.dumps(versions), "status": "running", "created_at": now, "updated_at": now,
             "usage": _usage_json(_usage([])), "accepted": 0,
             "forked_from": forked_from.model_dump_json() if forked_from else None, "replay_of": replay_of},
            pk="run_id",
        )

    def run(self, run_id: str) -> TraceRun | None:
        rows = list(self.db["runs"].rows_where("run_id = ?", [run_id]))
        return TraceRun.from_row(rows[0]) if rows else None

    def runs(self) -> list[TraceRun]:
        """Every run, newest first."""
        return [TraceRun.from_row(row) for row in self.db["runs"].rows_where(order_by="created_at desc")]

    def steps(self, run_id: str) -> list[TraceStep]:
        return [TraceStep.from_row(row) for row in self.db["steps"].rows_where("run_id = ?", [run_id], order_by="idx")]

    def next_index(self, run_id: str) -> int:
        row = self.db.execute("select max(idx) from steps where run_id = ?", [run_id]).fetchone()
        return 0 if row[0] is None else row[0] + 1

    def add_step(self, run_id: str, node: str, role: str | None, started_at: float, duration_s: float, update: RunState | None, error: str | None = None) -> int:
        update = as_json(update or {})
        calls = update.get("llm_calls", [])
        attempts = update.get("attempts", [])
        idx = self.next_index(run_id)
        self.db["steps"].insert(
            {
                "run_id": run_id, "idx": idx, "node": node, "role": role, "started_at": started_at, "duration_s": duration_s,
                "summary": json.dumps(summarize(update)),
                "llm": json.dumps(calls) if calls else None,
                "tools": json.dumps([{"tool": "check", "candidate": a["candidate_id"], "verdict": a["verdict"], "wall_s": (a.get("check") or {}).get("wall_s"),
                                      "isolation": (a.get("check") or {}).get("isolation")} for a in attempts]),
                "candidates": json.dumps([{"id": c["id"], "sha": c.get("sha")} for c in update.get("pending", [])]),
                "verdicts": json.dumps([a["verdict"] for a in attempts]),
                "error": error,
            }
        )
        if calls:
            run = self.run(run_id)
            usage = run.usage if run else _usage([])
            self.db["runs"].update(run_id, {"usage": _usage_json(add_usage(usage, _usage(calls))), "updated_at": time.time()})
        return idx

    def set_checkpoint(self, run_id: str, indexes: list[int], thread_id: str, checkpoint_id: str) -> None:
        """Name the checkpoint that holds the state right after these steps."""
        with self.db.conn:
            for idx in indexes:
                self.db["steps"].update((run_id, idx), {"checkpoint_thread": thread_id, "checkpoint_id": checkpoint_id})

    def copy_steps(self, source_run: str, run_id: str, last: int) -> None:
        """A fork's first steps: copies of `source_run`'s steps 0..last (their checkpoints stay
        the source's). The fork's usage starts with their tokens: they are part of its path."""
        # A step written before checkpoint ids were recorded keeps the thread it ran in, where a
        # later fork looks its checkpoint up by time.
        steps = [step.model_copy(update={"run_id": run_id, "checkpoint_thread": step.checkpoint_thread or source_run})
                 for step in self.steps(source_run) if step.idx <= last]
        calls = [call for step in steps for call in step.llm or []]
        with self.db.conn:
            self.db["steps"].insert_all([step.to_row() for step in steps])
            self.db["runs"].update(run_id, {"usage": _usage_json(_usage(calls)), "updated_at": time.time()})

    def llm_calls_by_node(self, run_id: str, after: int = -1) -> dict[str, list[StoredJson]]:
        """The recorded LLM exchanges of steps after index `after`, per node, in the order made."""
        out: dict[str, list[StoredJson]] = {}
        for step in self.steps(run_id):
            if step.idx > after and step.llm:
                out.setdefault(step.node, []).extend(step.llm)
        return out

    def finish_run(self, run_id: str, status: str, stop_reason: str | None, best: BestSummary | None, wall_s: float, error: str | None = None) -> None:
        self.db["runs"].update(
            run_id,
            {"status": status, "stop_reason": stop_reason, "error": error, "accepted": int(best is not None),
             # The % of SoL is the report's; the trace keeps what the run's summary showed.
             "best": best.model_dump_json(exclude={"pct_of_sol"}) if best else None, "updated_at": time.time(), "wall_s": wall_s},
        )


def as_json(update: RunState) -> StoredJson:
    """A state update with its records as JSON values: the form the trace's rows store and its
    readers (show, diff, html, replay) read back."""
    return to_jsonable_python(update)


def summarize(update: StoredJson) -> StoredJson:
    """A short, readable digest of a node's state update (sources by hash, not in full)."""
    import hashlib

    out: StoredJson = {}
    for key, value in update.items():
        if key == "llm_calls":
            out[key] = len(value)
        elif key == "pending":
            out[key] = [{"id": c["id"], "parent_id": c.get("parent_id"), "sha": hashlib.sha256(c["source"].encode()).hexdigest()[:16]} for c in value]
        elif key == "attempts":
            out[key] = [{"candidate_id": a["candidate_id"], "verdict": a["verdict"], "speedup": a.get("speedup"),
                         "iteration": a.get("iteration"), "median_ms": a.get("median_ms"), "reasons": (a.get("reasons") or [])[:3],
                         "roofline": roofline_digest((a.get("check") or {}).get("roofline")),
                         **{k: a[k] for k in ("applied_lessons", "lesson_outcomes") if a.get(k)}} for a in value]
        elif key == "best":
            out[key] = value and {"candidate_id": value["candidate_id"], "median_ms": value.get("median_ms")}
        elif key == "plan":
            # A plan record dumps to {"text": ...}; a fork's edited state may carry the plain text.
            out[key] = value and (value if isinstance(value, str) else value["text"])[:500]
        elif isinstance(value, str):
            out[key] = value[:500]
        elif key == "profile":
            out[key] = value and {**{k: value.get(k) for k in ("tier", "diagnosis", "missing")}, "roofline": roofline_digest(value.get("roofline"))}
        else:
            out[key] = value
    return out


def roofline_digest(roofline: Measurements | None) -> StoredJson | None:
    """`RooflineDigest` of a roofline report, as the step summary stores it."""
    digest = RooflineDigest.of(roofline)
    return digest.model_dump(mode="json") if digest else None
