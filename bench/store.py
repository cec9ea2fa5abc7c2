"""A bench's folder, HOME/bench/<bench_id>/: what makes it resumable.

    bench.json                    the suite (folder, problem names) and the options it runs with
    config.yaml                   a copy of --config, if one was given
    problems/<name>/result.json   one per finished problem, written atomically by its worker
    problems/<name>/run/          the problem's run outputs (solution.py, report.json)
    problems/<name>/worker.log    the worker's progress and errors
    results.json, results.md, speedups.svg/.png, results.html   the report, rewritten as problems finish

A problem is finished when its result.json exists; a resumed bench runs the others.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

from pydantic import BaseModel

from kernelwright.bench.meta import BenchMeta, BenchSetup
from kernelwright.bench.records import BenchResult
from kernelwright.tools.problem import InputError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
# A crash is kernelwright's fault or the machine's (out of memory), not the problem's result: a
# resumed bench runs those problems again.
RETRIED_STATUSES = ("crashed", "worker_died")


def new_bench_id() -> str:
    return f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def write_json_atomic(path: Path, record: BaseModel) -> None:
    """Write then rename: a reader (or a bench killed mid-write) never sees half a file. The
    temporary file is unique per call: the bench's worker threads and its main thread (a stopped
    bench) write the same reports at once, and a name shared by the process let one writer rename
    the other's file away (FileNotFoundError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # json.dumps, not pydantic's writer: the same bytes as the dicts of earlier versions (float and non-ASCII spelling).
    tmp.write_text(json.dumps(record.model_dump(mode="json"), indent=2, default=str))
    os.replace(tmp, path)


class BenchFolder:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def bench_id(self) -> str:
        return self.root.name

    @property
    def meta_path(self) -> Path:
        return self.root / "bench.json"

    def problem_dir(self, name: str) -> Path:
        return self.root / "problems" / name

    def result_path(self, name: str) -> Path:
        return self.problem_dir(name) / "result.json"

    def meta(self) -> BenchMeta:
        return BenchMeta.model_validate_json(self.meta_path.read_text())

    def results(self) -> dict[str, BenchResult]:
        """Every recorded result, by name, in the suite's order."""
        out: dict[str, BenchResult] = {}
        for name in self.meta().problems:
            path = self.result_path(name)
            if path.exists():
                out[name] = BenchResult.model_validate_json(path.read_text())
        return out

    def finished(self) -> dict[str, BenchResult]:
        """The results a resumed bench keeps (all but crashes)."""
        return {n: r for n, r in self.results().items() if r.status not in RETRIED_STATUSES}

    def write_result(self, name: str, result: BenchResult) -> None:
        write_json_atomic(self.result_path(name), result)

    @classmethod
    def create(cls, home: Path, bench_id: str | None, setup: BenchSetup) -> BenchFolder:
        bench_id = bench_id or new_bench_id()
        if not _ID.match(bench_id):
            raise InputError(f"--id {bench_id!r}: use letters, digits, '.', '_' or '-' (at most 80)")
        folder = cls(home / "bench" / bench_id)
        if folder.meta_path.exists():
            raise InputError(f"bench {bench_id} already exists in {folder.root}: continue it with --resume {bench_id}")
        write_json_atomic(folder.meta_path, BenchMeta(**dict(setup), bench_id=bench_id, created_at=time.time()))
        return folder

    @classmethod
    def open(cls, home: Path, bench_id: str) -> BenchFolder:
        folder = cls(home / "bench" / bench_id)
        if not _ID.match(bench_id) or not folder.meta_path.exists():
            known = sorted(p.parent.name for p in (home / "bench").glob("*/bench.json"))
            hint = f"benches in {home / 'bench'}: {', '.join(known[-5:])}" if known else f"no bench in {home / 'bench'}"
            raise InputError(f"--resume {bench_id}: no such bench ({hint}; pass the same --home)")
        return folder
