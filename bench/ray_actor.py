"""The Ray actor of a distributed bench: one per GPU (or CPU job), long-lived, running one problem
at a time in its own process.

Unlike the local executor's one-process-per-problem workers, the actor keeps its process between
problems, so its warm sandboxed worker (`tools.sandbox.warm`: a zygote with torch and Triton
imported) is started once, when the actor starts, and every check of every problem it runs forks
from it. Each problem runs in a scratch HOME on the actor's own node; what the run wrote goes
back to the driver as a `RunBundle` (bench/ray_bundle.py), and nothing here touches the bench's
folder or HOME.

Plain Python: the executor wraps it with `ray.remote` (this module does not import Ray).
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import shutil
import socket
import tempfile
import time
import traceback
from pathlib import Path

from kernelwright.bench.executor import WorkerRequest
from kernelwright.bench.ray_bundle import (
    ProblemParcel,
    RunBundle,
    read_checkpoints,
    read_run_files,
)
from kernelwright.bench.records import BenchRecord, BenchResult, Placement, failed_record


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _placement(actor: str, device: str) -> Placement:
    import ray

    context = ray.get_runtime_context()
    gpu_ids = ray.get_gpu_ids() if device != "cpu" else []
    model = _cpu_model()
    if device != "cpu":
        import torch

        model = torch.cuda.get_device_name(0)  # Ray made the actor's one GPU the only visible one
    return Placement(actor=actor, node_id=context.get_node_id(), node_ip=ray.util.get_node_ip_address(),
                     hostname=socket.gethostname(), pid=os.getpid(), device=device,
                     gpu_index=int(gpu_ids[0]) if gpu_ids else None, model=model)


class ActorInfo(BenchRecord):
    """What a started actor says of itself (`ProblemRunner.describe`)."""

    placement: Placement
    scratch: str  # its scratch folder on its node
    warm: str  # "warm", or why its sandboxed checks start cold


class ProblemRunner:
    def __init__(self, actor: str, device: str) -> None:
        self.placement = _placement(actor, device)
        self.scratch = Path(tempfile.mkdtemp(prefix=f"kw-ray-{actor}-"))
        self.home = self.scratch / "home"
        self.warm = self._start_warm_worker(device)

    @staticmethod
    def _start_warm_worker(device: str) -> str:
        """Start the zygote the checks will fork from now, not in the first problem's time."""
        from kernelwright.tools.sandbox import warm

        why_not = warm.available()
        if why_not:
            return f"cold children: {why_not}"
        zygote = warm.zygote_for(gpu=device != "cpu", interpret=device == "cpu")
        return "warm" if zygote is not None else "cold children: the zygote did not start"

    def describe(self) -> ActorInfo:
        return ActorInfo(placement=self.placement, scratch=str(self.scratch), warm=self.warm)

    def run(self, parcel: ProblemParcel) -> RunBundle:
        from kernelwright.bench.worker import run_problem
        from kernelwright.memory.store import MemoryStore

        workdir = self.scratch / "problems" / parcel.name
        shutil.rmtree(workdir, ignore_errors=True)
        (workdir / "suite").mkdir(parents=True)
        problem = workdir / "suite" / parcel.file_name
        problem.write_text(parcel.source)
        for file_name, text in parcel.sidecars.items():
            (workdir / "suite" / file_name).write_text(text)
        config = None
        if parcel.config_text is not None:
            config = workdir / "config.yaml"
            config.write_text(parcel.config_text)
        with MemoryStore.in_home(self.home) as memory:
            memory.import_jsonl(io.StringIO(parcel.lessons_jsonl), name="the bench's memory")
        device = self.placement.device
        request = WorkerRequest(name=parcel.name, problem=str(problem), home=str(self.home),
                                config_path=str(config) if config else None, overrides=parcel.overrides,
                                out=str(workdir / "run"), device=device, slot=self.placement.actor)
        log_path = workdir / "worker.log"  # on the actor's node; its text goes back in the bundle
        began = time.monotonic()
        with log_path.open("w", buffering=1) as log, contextlib.redirect_stderr(log):
            where = self.placement
            print(f"Ray actor {where.actor} (pid {where.pid}) on {where.hostname} {where.node_ip}, {where.model}; "
                  f"sandboxed jobs: {self.warm}", file=log)
            try:
                result = run_problem(request)
            except Exception:  # noqa: BLE001 - a fault in kernelwright itself: recorded, the bench goes on
                traceback.print_exc(file=log)
                error = "kernelwright raised " + traceback.format_exc().strip().splitlines()[-1] + " (see worker.log)"
                result = failed_record(parcel.name, str(problem), device, "crashed", error, wall_s=time.monotonic() - began)
        bundle = self._bundle(result, workdir, log_path.read_text())
        shutil.rmtree(workdir, ignore_errors=True)  # all of it travels in the bundle
        return bundle

    def close(self) -> None:
        """Remove the scratch folder (the actor is killed right after)."""
        from kernelwright.tools.sandbox import warm

        warm.shutdown()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _bundle(self, result: BenchResult, workdir: Path, log: str) -> RunBundle:
        from kernelwright.graphs.traces.store import TraceStore
        from kernelwright.memory.store import MemoryStore

        run_id = result.run_id
        trace_run, steps = None, []
        if run_id and (self.home / "traces.db").exists():
            trace = TraceStore(self.home / "traces.db")
            trace_run, steps = trace.run(run_id), trace.steps(run_id)
            trace.db.conn.close()
        lessons = io.StringIO()
        with MemoryStore.in_home(self.home) as memory:
            memory.export_jsonl(lessons)
        return RunBundle(result=result, placement=self.placement, run_files=read_run_files(workdir / "run"),
                         trace_run=trace_run, trace_steps=steps,
                         checkpoints=read_checkpoints(self.home / "checkpoints.db", run_id) if run_id else {},
                         lessons_jsonl=lessons.getvalue(), log=log)
