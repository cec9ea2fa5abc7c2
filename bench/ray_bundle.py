"""What travels between the bench's driver and its Ray actors, and how the driver files it.

A Ray actor may run on another machine: it cannot read the suite's folder, and it must not write
the bench's SQLite files (no shared SQLite across machines). So the driver ships each problem as
text (`ProblemParcel`), the actor runs it in a scratch home of its own, and sends everything the
run produced back as a `RunBundle`: the bench record, the run folder's files, the run's trace
rows, its LangGraph checkpoints (so `run --resume/--fork` work on the driver's home) and the
lessons of its memory. Only the driver writes them, into the bench folder and its HOME
(`file_bundle`).
"""

from __future__ import annotations

import dataclasses
import io
from contextlib import closing
from pathlib import Path
from typing import Any

from kernelwright.bench.records import ActorFailure, BenchResult, Placement
from kernelwright.bench.store import write_json_atomic
from kernelwright.configs import RawConfig
from kernelwright.graphs.traces.records import TraceRun, TraceStep
from kernelwright.tools.sqlite import open_sqlite

# LangGraph's SqliteSaver tables, keyed by thread (= run id).
CHECKPOINT_TABLES = ("checkpoints", "writes")


@dataclasses.dataclass(frozen=True)
class ProblemParcel:
    """One problem as the driver sends it: the files as text, the run options, the memory."""

    name: str
    file_name: str  # the problem file's name (its stem is the problem's name)
    source: str
    sidecars: dict[str, str]  # file name -> text: NAME.tolerance.json and the like, next to the problem
    config_text: str | None  # the bench's config.yaml, if it has one
    overrides: RawConfig  # the bench's run flags, not validated yet
    lessons_jsonl: str  # the driver's memory (MemoryStore.export_jsonl): retrieval sees what earlier problems learned


@dataclasses.dataclass(frozen=True)
class TableRows:
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclasses.dataclass(frozen=True)
class RunBundle:
    result: BenchResult  # its paths are still the actor's
    placement: Placement
    run_files: dict[str, bytes]  # path under the run folder -> content
    trace_run: TraceRun | None  # the run's row of traces.db (None if the run never started)
    trace_steps: list[TraceStep]
    checkpoints: dict[str, TableRows]  # table -> the run's rows of checkpoints.db
    lessons_jsonl: str
    log: str  # the run's progress and errors


def read_run_files(run_dir: Path) -> dict[str, bytes]:
    if not run_dir.is_dir():
        return {}
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def read_checkpoints(db_path: Path, thread_id: str) -> dict[str, TableRows]:
    if not db_path.exists():
        return {}
    out: dict[str, TableRows] = {}
    with closing(open_sqlite(db_path)) as conn:
        for table in CHECKPOINT_TABLES:
            cursor = conn.execute(f"SELECT * FROM [{table}] WHERE thread_id = ?", [thread_id])
            out[table] = TableRows([d[0] for d in cursor.description], [tuple(r) for r in cursor.fetchall()])
    return out


def _write_checkpoints(home: Path, tables: dict[str, TableRows]) -> None:
    if not any(t.rows for t in tables.values()):
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    # LangGraph's own tables, as a local run creates them; the helper's busy timeout waits for a
    # `kernelwright run` that holds this home's file.
    with closing(open_sqlite(home / "checkpoints.db", setup=lambda conn: SqliteSaver(conn).setup())) as conn:
        with conn:
            for table, data in tables.items():
                marks = ", ".join("?" for _ in data.columns)
                names = ", ".join(f"[{c}]" for c in data.columns)
                conn.executemany(f"INSERT OR REPLACE INTO [{table}] ({names}) VALUES ({marks})", data.rows)


def file_bundle(bundle: RunBundle, home: Path, workdir: Path, result_path: Path, problem_path: str,
                failures: list[ActorFailure]) -> BenchResult:
    """Write what the actor sent into the bench folder and HOME; return the record as written.
    The record's paths become the driver's; `placement` names the GPU (model, index, node) and
    `failures` the attempts lost to dead actors before this one."""
    from kernelwright.graphs.traces.store import TraceStore
    from kernelwright.memory.store import MemoryStore

    run_dir = workdir / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    for rel, data in bundle.run_files.items():
        target = run_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    with (workdir / "worker.log").open("a") as log:
        log.write(bundle.log)
    if bundle.trace_run is not None:
        trace = TraceStore(home / "traces.db")
        # The run's problem is the suite's file, not the actor's scratch copy (gone with the actor).
        trace.db["runs"].upsert({**bundle.trace_run.to_row(), "problem": problem_path}, pk="run_id", alter=False)
        if bundle.trace_steps:
            trace.db["steps"].upsert_all([step.to_row() for step in bundle.trace_steps], pk=("run_id", "idx"))
        trace.db.conn.close()
    _write_checkpoints(home, bundle.checkpoints)
    with MemoryStore.in_home(home) as memory:
        memory.import_jsonl(io.StringIO(bundle.lessons_jsonl), name=f"lessons from {bundle.placement.actor}")
    result = bundle.result.with_changes(path=problem_path, run_dir=str(run_dir) if bundle.result.run_dir else None,
                                        placement=bundle.placement, failures=failures)
    write_json_atomic(result_path, result)
    return result
