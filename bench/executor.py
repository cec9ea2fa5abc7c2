"""Where a bench's runs execute. The bench hands an executor `Task`s (a `ProblemJob` for the
worker, and where its result goes) and gets `Outcome`s back; it never starts processes itself, so
a distributed engine can replace the local pool without touching the bench or the graph.

`LocalProcessExecutor`: one worker process per task (`python -m kernelwright.bench.worker`), at
most one task per slot at a time; a slot is a GPU (pinned with CUDA_VISIBLE_DEVICES, so the run
and all its sandboxed children see only that card) or a CPU job.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from kernelwright.bench.records import BenchRecord, BenchResult
from kernelwright.configs import RawConfig

WORKER_MODULE = "kernelwright.bench.worker"
STOP_GRACE_S = 10.0


@dataclasses.dataclass(frozen=True)
class Slot:
    name: str  # shown in progress and results: "cuda:1", "cpu-0"
    device: str  # the device the run is told to use inside its slot: "cuda:0" or "cpu"
    env: dict[str, str] = dataclasses.field(default_factory=dict)


class ProblemJob(BenchRecord):
    """One problem's run, as the bench asks for it (the slot it runs in is the executor's choice)."""

    name: str
    problem: str  # the problem file
    home: str
    config_path: str | None  # the bench's copy of --config
    overrides: RawConfig  # the bench's run flags, not validated yet
    out: str  # the run folder


class WorkerRequest(ProblemJob):
    """request.json, a worker's input: the job and where it runs."""

    device: str  # inside the slot: "cuda:0" or "cpu"
    slot: str  # the slot's name, for the worker's log
    result_path: str | None = None  # where the worker writes its result (None: it returns it, as a Ray actor does)


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    job: ProblemJob  # the worker's input; the executor adds the slot
    workdir: Path  # the worker's folder: its request, log and result live here
    result_path: Path


@dataclasses.dataclass
class Outcome:
    task: Task
    slot: Slot
    result: BenchResult | None  # the worker's result.json; None if it wrote none
    returncode: int | None
    wall_s: float
    log_path: Path | None = None


class Executor(Protocol):
    def run(self, tasks: Iterable[Task], on_start: Callable[[Task, Slot], None], on_done: Callable[[Outcome], None]) -> None:
        """Run every task, calling `on_start`/`on_done` (serialised) as each begins and ends;
        returns when all have ended or `stop()` was called."""

    def stop(self) -> None:
        """Abandon the tasks not started and end the running ones (their outcomes are not reported)."""


class LocalProcessExecutor:
    def __init__(self, slots: list[Slot]) -> None:
        if not slots:
            raise ValueError("an executor needs at least one slot")
        self.slots = slots
        self._stopping = threading.Event()
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def run(self, tasks: Iterable[Task], on_start: Callable[[Task, Slot], None], on_done: Callable[[Outcome], None]) -> None:
        pending: queue.SimpleQueue[Task] = queue.SimpleQueue()
        for task in tasks:
            pending.put(task)
        callbacks = threading.Lock()

        def serve(slot: Slot) -> None:
            while not self._stopping.is_set():
                try:
                    task = pending.get_nowait()
                except queue.Empty:
                    return
                with callbacks:
                    on_start(task, slot)
                outcome = self._run_one(task, slot)
                if outcome is not None and not self._stopping.is_set():
                    with callbacks:
                        on_done(outcome)

        threads = [threading.Thread(target=serve, args=(s,), name=f"bench-{s.name}", daemon=True) for s in self.slots]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():  # join with a timeout so the main thread still gets signals
                t.join(timeout=0.5)

    def _run_one(self, task: Task, slot: Slot) -> Outcome | None:
        task.workdir.mkdir(parents=True, exist_ok=True)
        request_path = task.workdir / "request.json"
        request = WorkerRequest(**dict(task.job), device=slot.device, slot=slot.name, result_path=str(task.result_path))
        request_path.write_text(request.model_dump_json(indent=2))
        log_path = task.workdir / "worker.log"
        began = time.monotonic()
        with log_path.open("ab") as log:
            with self._lock:
                if self._stopping.is_set():
                    return None
                # Same process group as the bench: killing the bench's group ends its workers.
                proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, str(request_path)], cwd=str(task.workdir),
                                        env={**os.environ, **slot.env}, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
                self._procs[task.name] = proc
            rc = proc.wait()
        with self._lock:
            self._procs.pop(task.name, None)
        if self._stopping.is_set():
            return None
        result = BenchResult.model_validate_json(task.result_path.read_text()) if task.result_path.exists() else None
        return Outcome(task, slot, result, rc, time.monotonic() - began, log_path)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            procs = list(self._procs.values())
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
