"""Running a bench: pick the problems, plan the slots (one per GPU, or --jobs CPU jobs), hand the
unfinished problems to an executor, record each result as it arrives and rewrite the reports.

Resumable at problem granularity: a finished problem has its result.json in the bench folder; a
resumed (or restarted after a kill) bench runs only the others, from the start of their runs.
"""

from __future__ import annotations

import dataclasses
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from kernelwright.bench.executor import Executor, LocalProcessExecutor, Outcome, ProblemJob, Slot, Task
from kernelwright.bench.meta import BenchOptions, BenchSetup
from kernelwright.bench.plan import discover, plan_slots
from kernelwright.bench.records import failed_record
from kernelwright.bench.reports import BenchReport, write_reports
from kernelwright.bench.store import BenchFolder
from kernelwright.configs import RawConfig
from kernelwright.tools.problem import InputError

CONFIG_COPY = "config.yaml"


@dataclasses.dataclass
class BenchRequest:
    folder: str | None  # DIR; on resume it may be omitted (the stored one) or point to a moved copy
    home: Path
    config_path: str | None = None
    overrides: RawConfig = dataclasses.field(default_factory=dict)  # the run flags, as `run` builds them (not validated yet)
    device: str = "auto"
    jobs: int | None = None
    filters: list[str] = dataclasses.field(default_factory=list)
    kernelbench_level: int | None = None  # set: a KernelBench level folder; its run folder is exported too
    limit: int | None = None
    bench_id: str | None = None
    resume: str | None = None
    out: str | None = None
    show_progress: bool = True
    # Another engine (a cluster queue, ...) plugs in here; the default runs local processes.
    make_executor: Callable[[list[Slot]], Executor] = LocalProcessExecutor
    # Its slots, from (--device, --jobs): this machine's by default, a cluster's with Ray (bench/ray_cluster.py).
    plan: Callable[[str, int | None], tuple[list[Slot], str]] = plan_slots


def _versions() -> dict[str, str]:
    from kernelwright.tools.devices import versions

    return versions()


def _prepare_home(home: Path) -> None:
    """Create the shared stores once, before workers open them side by side."""
    from kernelwright.graphs.traces.store import TraceStore
    from kernelwright.memory.store import MemoryStore

    TraceStore(home / "traces.db")
    MemoryStore.in_home(home).close()


def open_bench(req: BenchRequest) -> tuple[BenchFolder, Path, list[Slot]]:
    from kernelwright.tools.home import require_writable

    require_writable(req.home)  # before the bench folder: a read-only home is bad input, not a traceback
    if req.resume:
        bench = BenchFolder.open(req.home, req.resume)
        meta = bench.meta()
        stored = meta.options
        # Repeating the bench's own options is fine; changing them would mix two benches in one table.
        stray = [flag for flag, given, same in (("--id", req.bench_id, req.bench_id == req.resume), ("--filter", req.filters, False),
                                                ("--limit", req.limit, False),
                                                ("--config", req.config_path, req.config_path == stored.config_path),
                                                ("run options", req.overrides, req.overrides == stored.overrides)) if given and not same]
        if stray:
            raise InputError(f"--resume {req.resume} continues with the options the bench started with: drop {', '.join(stray)}")
        folder = Path(req.folder).resolve() if req.folder else Path(meta.dir)
        missing = [n for n, f in meta.files.items() if not (folder / f).is_file()]
        if missing:
            raise InputError(f"--resume {req.resume}: {folder} lacks {', '.join(missing[:5])}: give the suite's folder as DIR")
        slots, _ = req.plan(req.device if req.device != "auto" else meta.device, req.jobs)
        return bench, folder, slots
    if not req.folder:
        raise InputError("give a problem folder DIR, or --resume BENCH_ID")
    folder = Path(req.folder).resolve()
    files = discover(folder, req.filters, req.limit)
    slots, kind = req.plan(req.device, req.jobs)
    setup = BenchSetup(
        dir=str(folder), problems=[p.stem for p in files], files={p.stem: p.name for p in files}, device=kind,
        options=BenchOptions(config_path=req.config_path, config_file=CONFIG_COPY if req.config_path else None,
                             overrides=req.overrides, policy=_policy(req)),
        versions=_versions(), kernelbench_level=req.kernelbench_level, started=time.strftime("%Y-%m-%d %H:%M"),
    )
    bench = BenchFolder.create(req.home, req.bench_id, setup)
    if req.config_path:
        # The bench keeps its own copy: a resumed bench (on another machine, say) needs no other file.
        shutil.copyfile(req.config_path, bench.root / CONFIG_COPY)
    return bench, folder, slots


def _policy(req: BenchRequest) -> str:
    """The policy every run will use (as `run` decides it); a bad config is bad input here, once."""
    from kernelwright.configs import load

    return load(req.config_path, req.overrides).config.effective_policy()


def _tasks(bench: BenchFolder, folder: Path, home: Path, names: list[str]) -> list[Task]:
    meta = bench.meta()
    config_file = meta.options.config_file
    tasks = []
    for name in names:
        workdir = bench.problem_dir(name)
        shutil.rmtree(workdir / "run", ignore_errors=True)  # a killed attempt's partial outputs
        job = ProblemJob(name=name, problem=str(folder / meta.files[name]), home=str(home),
                         config_path=str(bench.root / config_file) if config_file else None, overrides=meta.options.overrides,
                         out=str(workdir / "run"))
        tasks.append(Task(name, job, workdir, bench.result_path(name)))
    return tasks


def run_bench(req: BenchRequest) -> BenchReport:
    """Run (or resume) a bench to its end and return its report. KeyboardInterrupt (Ctrl-C or
    SIGTERM) stops the workers, writes the partial report and propagates."""
    from kernelwright.bench.progress import ProgressBar, describe_result

    bench, folder, slots = open_bench(req)
    _prepare_home(req.home)
    done = bench.finished()
    todo = [n for n in bench.meta().problems if n not in done]
    say = (lambda m: print(f"kernelwright: {m}", file=sys.stderr, flush=True)) if req.show_progress else (lambda m: None)
    say(f"bench {bench.bench_id}: {len(todo)} to run, {len(done)} already finished; {len(slots)} worker(s) on "
        + ", ".join(s.name for s in slots) + f"; folder {bench.root}")
    bar = ProgressBar(len(done) + len(todo), len(done), sum(r.accepted for r in done.values()),
                      stream=sys.stderr) if req.show_progress else None
    executor = req.make_executor(slots)

    def on_start(task: Task, slot: Slot) -> None:
        if bar:
            bar.started(task.name, slot.name)

    def on_done(outcome: Outcome) -> None:
        result = outcome.result
        if result is None and outcome.returncode in STOPPED_BY_SIGNAL:
            # Stopped, not failed: a SIGTERM or Ctrl-C to the bench's process group reaches its
            # workers too, often before the bench itself acts on it. Nothing is recorded, so the
            # problem stays unfinished and `--resume` runs it again.
            return
        if result is None:
            result = failed_record(outcome.task.name, outcome.task.job.problem, outcome.slot.device, "worker_died",
                                   f"the worker exited with {outcome.returncode} and wrote no result; see {outcome.log_path}",
                                   wall_s=outcome.wall_s)
            bench.write_result(outcome.task.name, result)
        write_reports(bench, req.out)
        if bar:
            bar.finished(outcome.task.name, result.accepted, describe_result(result))

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if in_main else None
    try:
        executor.run(_tasks(bench, folder, req.home, todo), on_start, on_done)
    except KeyboardInterrupt:
        executor.stop()
        if bar:
            bar.close()
        say(f"bench {bench.bench_id} stopped; continue it with: kernelwright bench --resume {bench.bench_id} --home {req.home}")
        raise BenchInterrupted(write_reports(bench, req.out)) from None
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    if bar:
        bar.close()
    return write_reports(bench, req.out)


STOPPED_BY_SIGNAL = (-signal.SIGTERM, -signal.SIGINT)  # a worker's return code when it was stopped


class BenchInterrupted(KeyboardInterrupt):
    """The bench was stopped; `report` is what it had finished (its files are written)."""

    def __init__(self, report: BenchReport) -> None:
        super().__init__("bench interrupted")
        self.report = report


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
