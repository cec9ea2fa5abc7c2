"""The Ray executor: the bench's problems spread over Ray actors, one per GPU (or CPU job).

The driver (the `kernelwright bench` process) keeps the queue. It hands each idle actor the next
problem, waits for whichever finishes first (`ray.wait`), files that result at once (the record,
the run folder, traces, checkpoints and lessons: bench/ray_bundle.py) and gives the actor the
next one. So results stream in as they end, a bench killed at any point keeps every problem it
had filed, and `--resume` runs only the others.

Faults: an actor that dies mid-problem (its process killed, its node lost) takes only its current
problem with it. That problem goes back to the front of the queue for another live actor, once;
the failure is kept in the record (`failures`). A second death, or no live actor left, records
the problem as `worker_died` (a resumed bench runs it again). Dead actors are not replaced: on a
lost node their GPU is gone too.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from kernelwright.bench.executor import Outcome, Slot, Task
from kernelwright.bench.ray_actor import ActorInfo
from kernelwright.bench.ray_bundle import ProblemParcel, RunBundle, file_bundle
from kernelwright.bench.records import ActorFailure, failed_record
from kernelwright.bench.store import write_json_atomic

MAX_ATTEMPTS = 2  # the first run and one retry elsewhere
WAIT_S = 0.5  # ray.wait's timeout: the main thread gets back to Python (and Ctrl-C) this often
CLOSE_TIMEOUT_S = 30.0  # an actor's close: stopping its zygote, removing its scratch folder
START_TIMEOUT_S = 600.0  # an actor's start: Ray placing it, importing torch, starting its zygote (up to 300 s)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Keep Ctrl-C/SIGTERM for the end of the block, so that filing a result is never cut in half
    (an import or a write interrupted there leaves the report half-made). Handlers, not a signal
    mask: Ray's threads in this process would take a masked signal instead of the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught:
        raise KeyboardInterrupt


@dataclasses.dataclass
class _Actor:
    slot: Slot
    handle: Any  # Ray's ActorHandle of a ProblemRunner
    info: ActorInfo | None = None  # ProblemRunner.describe(), once it started


@dataclasses.dataclass
class _Running:
    actor: _Actor
    task: Task
    began: float


def parcel_of(task: Task, home: Path) -> ProblemParcel:
    """The problem as text, with its sidecars, the bench's config and the driver's lessons."""
    import io

    from kernelwright.memory.store import MemoryStore

    problem = Path(task.job.problem)
    sidecars = {p.name: p.read_text() for p in sorted(problem.parent.glob(f"{problem.stem}.*"))
                if p.is_file() and p != problem and p.suffix != ".py"}
    config = task.job.config_path
    lessons = io.StringIO()
    with MemoryStore.in_home(home) as memory:
        memory.export_jsonl(lessons)
    return ProblemParcel(name=task.name, file_name=problem.name, source=problem.read_text(), sidecars=sidecars,
                         config_text=Path(config).read_text() if config else None,
                         overrides=task.job.overrides, lessons_jsonl=lessons.getvalue())


class RayExecutor:
    def __init__(self, slots: list[Slot]) -> None:
        if not slots:
            raise ValueError("an executor needs at least one slot")
        self.slots = slots
        self.actors: list[_Actor] = []
        self._stopping = False

    def start_actors(self) -> list[_Actor]:
        import ray

        from kernelwright.bench.ray_actor import ProblemRunner

        remote = ray.remote(ProblemRunner)
        for slot in self.slots:
            # A GPU actor holds its whole GPU (Ray sets CUDA_VISIBLE_DEVICES to it); a CPU actor one core.
            resources = {"num_gpus": 1, "num_cpus": 1} if slot.device != "cpu" else {"num_cpus": 1}
            handle = remote.options(max_restarts=0, max_task_retries=0, **resources).remote(slot.name, slot.device)
            self.actors.append(_Actor(slot, handle))
        # Keep the actors that start (their warm worker included) within START_TIMEOUT_S; one that
        # died starting (kernelwright missing on its node, say) or waits for a GPU that never frees is dropped.
        described = {a.handle.describe.remote(): a for a in self.actors}
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(described)
        while waiting and time.monotonic() < deadline:
            _, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=WAIT_S)
        lost: list[str] = []
        for ref, actor in described.items():
            try:
                actor.info = ray.get(ref, timeout=0) if ref not in waiting else None
            except ray.exceptions.RayError as exc:
                lost.append(f"{actor.slot.name}: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
            if actor.info is None:
                if ref in waiting:
                    lost.append(f"{actor.slot.name}: not started after {START_TIMEOUT_S:.0f} s")
                ray.kill(actor.handle, no_restart=True)
        self.actors = [a for a in self.actors if a.info is not None]
        if lost:
            print(f"kernelwright: {len(lost)} Ray actor(s) did not start: " + "; ".join(lost), file=sys.stderr, flush=True)
        if not self.actors:
            raise RuntimeError("no Ray actor started (is kernelwright installed in every node's Python?): " + "; ".join(lost))
        return self.actors

    def run(self, tasks: Iterable[Task], on_start: Callable[[Task, Slot], None], on_done: Callable[[Outcome], None]) -> None:
        import ray

        pending = collections.deque(tasks)
        if not pending:
            return
        home = Path(pending[0].job.home)
        idle = collections.deque(self.actors or self.start_actors())
        running: dict[Any, _Running] = {}
        failures: dict[str, list[ActorFailure]] = collections.defaultdict(list)
        while not self._stopping:
            while idle and pending:
                actor, task = idle.popleft(), pending.popleft()
                on_start(task, actor.slot)
                running[actor.handle.run.remote(parcel_of(task, home))] = _Running(actor, task, time.monotonic())
            if not running:
                break
            ready, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_S)
            for ref in ready:
                job = running.pop(ref)
                task = job.task
                try:
                    bundle: RunBundle = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    failures[task.name].append(self._failure(job, exc))
                    if len(failures[task.name]) < MAX_ATTEMPTS and (idle or running):
                        pending.appendleft(task)  # next to start, on another (live) actor
                    else:
                        on_done(self._give_up(job, failures[task.name]))
                    continue
                with _signals_held():  # a Ctrl-C now stops the bench after this problem is filed and reported
                    result = file_bundle(bundle, home, task.workdir, task.result_path, task.job.problem,
                                         failures.pop(task.name, []))
                    on_done(Outcome(task, job.actor.slot, result, 0, time.monotonic() - job.began, task.workdir / "worker.log"))
                idle.append(job.actor)
            if pending and not idle and not running:  # every actor died
                for task in pending:
                    job = _Running(_Actor(Slot("none", "none"), None), task, time.monotonic())
                    on_done(self._give_up(job, failures[task.name] + [ActorFailure(error="no live Ray actor was left to run it")]))
                break
        self._end_actors(graceful=not self._stopping)

    @staticmethod
    def _failure(job: _Running, exc: BaseException) -> ActorFailure:
        placement = job.actor.info.placement if job.actor.info else None
        return ActorFailure(actor=job.actor.slot.name, node_ip=placement.node_ip if placement else None,
                            gpu_index=placement.gpu_index if placement else None, after_s=round(time.monotonic() - job.began, 3),
                            error=f"{type(exc).__name__}: " + str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)

    @staticmethod
    def _give_up(job: _Running, failures: list[ActorFailure]) -> Outcome:
        task = job.task
        result = failed_record(task.name, task.job.problem, job.actor.slot.device, "worker_died",
                               f"the run was lost {len(failures)} time(s) with its Ray actor: "
                               + "; ".join(f.error for f in failures), wall_s=time.monotonic() - job.began)
        result = result.with_changes(placement=None, failures=failures)  # no attempt got to the end
        write_json_atomic(task.result_path, result)
        return Outcome(task, job.actor.slot, result, None, time.monotonic() - job.began, None)

    def _end_actors(self, graceful: bool) -> None:
        import ray

        if graceful:  # each live actor removes its scratch folder (a dead one's call fails at once)
            closing = [a.handle.close.remote() for a in self.actors]
            ray.wait(closing, num_returns=len(closing), timeout=CLOSE_TIMEOUT_S)
        for actor in self.actors:
            try:
                ray.kill(actor.handle, no_restart=True)
            except Exception:  # noqa: BLE001 - Ray already going down (Ctrl-C reaches its processes too)
                pass
        self.actors = []

    def stop(self) -> None:
        """Ctrl-C: kill every actor (their sandboxed children die with them: bubblewrap's
        --die-with-parent); the unfinished problems are not recorded, so a resume runs them."""
        self._stopping = True
        self._end_actors(graceful=False)
