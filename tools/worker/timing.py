"""Timing on the GPU, inside a worker: the loops every timed implementation shares, and the child
entry that times the torch.compile baselines.

Protocol (the evaluation protocol's timing rules): inference mode; before every call, fresh input contents are
copied into the call's buffers and L2 is flushed (by a read), both outside the timed window, then
the GPU gets a head start so the events time the device, not the host's Python (both in
`call_prep`); CUDA events
around the call only; warm-up >= 10 calls and >= 25 ms; then 100 calls, or fewer (>= 10) once 1 s
of calls has passed; median, IQR, min, n. `compat` mode is KernelBench's: 3 warm-ups, 100 calls,
mean. Who runs these loops: the reference worker (eager, before and after the candidate), the
candidate worker (after its guarded checks; see `candidate.time_candidate`) and, once per problem
and toolchain, this file's `main` (the torch.compile baselines).
"""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
import time
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from typing_extensions import (
    TypedDict,  # pydantic reads it (the baselines' answer): typing's before 3.12 it cannot
)

from kernelwright.tools.check.guards import poison_
from kernelwright.tools.worker.call_prep import HeadStart, L2Flush
from kernelwright.tools.worker.common import (
    DTYPES,
    as_list,
    cast_inputs,
    generate_inputs,
    load_module,
    plain_cpu,
    save_tensors,
    seed_everything,
    write_json_atomic,
)

# Captured at import, which in the candidate's process is before its code runs.
_Event, _synchronize, _clock = torch.cuda.Event, torch.cuda.synchronize, time.perf_counter

class StatsJson(TypedDict):
    """Event-timed calls' statistics as a worker writes them (the parent reads them as
    `events.TimingStats`; a plain dict here: the candidate's process writes it through the
    signed log's captured json)."""

    median_ms: float
    mean_ms: float
    iqr_ms: float
    min_ms: float
    n: int
    statistic: str
    value_ms: float


class StreamProfileJson(TypedDict):
    """`profile_streams`' answer (the parent reads it as `events.StreamProfile`)."""

    calls: int
    kernels: int
    streams: list[int | None]
    timed_streams: list[int | None]
    kernel_ms: float
    event_ms: float
    names: list[str]
    kernel_names: list[str]


class TimedSamples(TypedDict):
    """Every timed call's values at the sampled positions (saved with torch.save, loaded by the
    parent with weights_only=True: plain containers only)."""

    positions: list[torch.Tensor]  # per output tensor, the flat positions read
    calls: list[tuple[int, int]]  # per call: (call index, input slot)
    values: list[torch.Tensor]  # per output tensor, the values read, stacked over the calls


@dataclasses.dataclass
class Measured:
    """What `measure` found; `buffers` are the call buffers, kept for the caller's further calls."""

    stats: StatsJson
    warmup_calls: int
    flush_bytes: int
    flush: str
    host_call_us: float  # the warm-up calls' median host time (a candidate's runs under its op accounting)
    head_start_us: float
    buffers: list[Any]


WARMUP_MIN_CALLS, WARMUP_MIN_MS = 10, 25.0
TIMED_CALLS, TIMED_BUDGET_S, TIMED_MIN_CALLS = 100, 1.0, 10
COMPILE_MODES = {"compile": "default", "compile_max_autotune": "max-autotune-no-cudagraphs"}


def input_pool(module: Any, device: torch.device, dtype: torch.dtype | None, seeds: list[int]) -> list[list[Any]]:
    """One input set per seed, drawn by the problem's get_inputs on the device."""
    pool = []
    for seed in seeds:
        seed_everything(seed)
        pool.append(cast_inputs(generate_inputs(module, device), device, dtype))
    return pool


def refill(buffers: list[Any], source: list[Any]) -> None:
    for dst, src in zip(buffers, source):
        if isinstance(dst, torch.Tensor):
            dst.copy_(src)


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors(o)]
    return []


def _storages(out: Any) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in _tensors(out)}


class CallWatch:
    """What the timing loop records around each call, always outside the CUDA-event window.

    - `sample`: every call's output read at the same `sample` secret random positions (all of them
      for smaller outputs), for the parent to compare with the reference: a call that skipped work
      is caught whichever call it was.
    - `keep`: the outputs of `keep` calls picked uniformly at random (reservoir sampling with the
      system's RNG), saved whole for the same re-check.
    - the outputs of the last `ring` calls stay referenced, so an honest implementation cannot get
      their memory back from the allocator: a call returning one of them is a result cache.
    - `launches` (a callable giving the solution's own launch count so far): calls that launched
      none of the solution's kernels.
    - `poison_released`: outputs it stops holding are filled with the poison pattern (`_release`).
    The positions come from a generator of this object's own, seeded from the system's RNG: not
    from torch's global RNG, whose state the candidate can read.
    """

    def __init__(self, keep: int = 0, ring: int = 0, sample: int = 0, launches: Callable[[], int] | None = None, poison_released: bool = False) -> None:
        self.poison_released = poison_released
        self.keep, self.kept, self.seen = keep, [], 0
        self._rng = random.SystemRandom()
        self.sample = sample
        self._gen = torch.Generator().manual_seed(self._rng.getrandbits(62))
        self.layout: list[tuple[tuple[int, ...], torch.dtype]] | None = None
        self.positions: list[torch.Tensor] = []
        self.samples: list[tuple[int, int, list[torch.Tensor]]] = []
        self.malformed: list[int] = []
        self.recent: deque[Any] = deque(maxlen=ring)
        self.recent_storages: deque[set[int]] = deque(maxlen=ring)
        self.reused: list[int] = []
        self.input_storages: set[int] = set()  # an output may alias an input buffer: that is no cache
        self.launches = launches
        self.without_own_launch: list[int] = []
        self._before = 0

    def before(self) -> None:
        if self.launches:
            self._before = self.launches()

    def after(self, index: int, slot: int, out: Any) -> None:
        if self.launches and self.launches() == self._before:
            self.without_own_launch.append(index)
        if self.sample:
            self._read_sample(index, slot, out)
        dropped = []
        if self.recent.maxlen:
            storages = _storages(out) - self.input_storages
            if any(storages & held for held in self.recent_storages):
                self.reused.append(index)
            if len(self.recent) == self.recent.maxlen:
                dropped.append(self.recent[0])
            self.recent.append(out)
            self.recent_storages.append(storages)
        if self.keep:
            if len(self.kept) < self.keep:
                self.kept.append((slot, index, out))
            else:
                j = self._rng.randrange(self.seen + 1)
                if j < self.keep:
                    dropped.append(self.kept[j][2])
                    self.kept[j] = (slot, index, out)
            self.seen += 1
        if self.poison_released:
            for old in dropped:
                self._release(old)

    def _release(self, out: Any) -> None:
        """An output the watch lets go of (unless still held) is filled with the poison pattern,
        so memory the allocator hands out again never holds a right answer from an earlier call:
        a call that returns uninitialised memory instead of computing shows up as wrong."""
        held = [o for o in self.recent] + [o for _, _, o in self.kept]
        if any(o is out for o in held):
            return
        keep = self.input_storages | {s for o in held for s in _storages(o)}
        for t in _tensors(out):
            if type(t) is torch.Tensor and t.untyped_storage().data_ptr() not in keep:
                poison_(t)


    def _read_sample(self, index: int, slot: int, out: Any) -> None:
        tensors = _tensors(out)
        if any(type(t) is not torch.Tensor for t in tensors):
            self.malformed.append(index)  # a tensor subclass could answer the sampling with other values
            return
        layout = [(tuple(t.shape), t.dtype) for t in tensors]
        if self.layout is None:
            self.layout = layout
            self.positions = [self._pick_positions(t) for t in tensors]
        if layout != self.layout:
            self.malformed.append(index)  # another shape, dtype or structure than the first timed call
            return
        self.samples.append((index, slot, [t.reshape(-1).index_select(0, p) for t, p in zip(tensors, self.positions)]))

    def _pick_positions(self, t: torch.Tensor) -> torch.Tensor:
        n = t.numel()
        picked = torch.arange(n) if n <= self.sample else torch.randint(n, (self.sample,), generator=self._gen)
        return picked.to(t.device)

    def sampled(self) -> TimedSamples | None:
        """The samples as CPU tensors: positions per output tensor, and per call its index, input
        slot and values (one tensor per output tensor, stacked over the calls)."""
        if not self.samples:
            return None
        return {
            "positions": [p.cpu() for p in self.positions],
            "calls": [(index, slot) for index, slot, _ in self.samples],
            "values": [torch.stack([values[k] for _, _, values in self.samples]).cpu() for k in range(len(self.positions))],
        }


def timed_calls(model, buffers, pool, flush: L2Flush, n_max: int, budget_s: float, n_min: int, watch: CallWatch | None = None,
                guard: Any = None, head_start: HeadStart | None = None, host_s: list[float] | None = None) -> list[float]:
    """Calls with refill + flush outside CUDA-event windows; the event times in ms. `guard`, a
    context manager, is entered around each call alone (never the refill or the flush, whose
    reduction the candidate's op accounting would count as the candidate's). `head_start` runs
    between the flush and the start event; `host_s` collects each call's host time in seconds."""
    starts = [_Event(enable_timing=True) for _ in range(n_max)]
    ends = [_Event(enable_timing=True) for _ in range(n_max)]
    began = _clock()
    n = 0
    while n < n_max:
        slot = n % len(pool)
        refill(buffers, pool[slot])
        flush()
        if head_start is not None:
            head_start()
        if watch:
            watch.before()
        with guard if guard is not None else nullcontext():
            starts[n].record()
            issued = _clock()
            out = model(*buffers)
            if host_s is not None:
                host_s.append(_clock() - issued)
            ends[n].record()
        if watch:
            watch.after(n, slot, out)
        n += 1
        if n >= n_min and _clock() - began > budget_s:
            break  # a slow implementation: stop early
    _synchronize()
    return [s.elapsed_time(e) for s, e in zip(starts[:n], ends[:n])]


def stats(ms: list[float], mean: bool) -> StatsJson:
    ordered = sorted(ms)
    q = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {
        "median_ms": statistics.median(ordered),
        "mean_ms": statistics.fmean(ordered),
        "iqr_ms": q[2] - q[0],
        "min_ms": ordered[0],
        "n": len(ordered),
        "statistic": "mean" if mean else "median",
        "value_ms": statistics.fmean(ordered) if mean else statistics.median(ordered),
    }


def measure(model, pool: list[list[Any]], device: torch.device, compat: bool, watch: CallWatch | None = None, warmup_guard: Any = None) -> Measured:
    """Warm-up, then the timed calls (call under torch.inference_mode()). `warmup_guard`, a context
    manager, is entered around each warm-up call (the candidate's op accounting)."""
    buffers = [v.clone() if isinstance(v, torch.Tensor) else v for v in pool[0]]
    if watch is not None:
        watch.input_storages = _storages(buffers)
    flush = L2Flush(device)
    # Warm-up: also absorbs JIT/autotune compilation, outside every measurement.
    began, warm_calls, host_s = _clock(), 0, []
    while True:
        timed_calls(model, buffers, pool, flush, 1, 1e9, 1, guard=warmup_guard, host_s=host_s)
        warm_calls += 1
        enough = warm_calls >= (3 if compat else WARMUP_MIN_CALLS)
        if enough and (compat or (_clock() - began) * 1000 >= WARMUP_MIN_MS):
            break
    if compat:
        ahead = None
        ms = timed_calls(model, buffers, pool, flush, TIMED_CALLS, 1e9, TIMED_CALLS, watch)
    else:
        ahead = HeadStart(device)
        ahead.cover(host_s)
        ms = timed_calls(model, buffers, pool, flush, TIMED_CALLS, TIMED_BUDGET_S, TIMED_MIN_CALLS, watch, head_start=ahead)
    result = Measured(stats=stats(ms, mean=compat), warmup_calls=warm_calls, flush_bytes=flush.nbytes, flush=flush.mode,
                      host_call_us=round(statistics.median(host_s) * 1e6, 1), head_start_us=round(ahead.seconds * 1e6, 1) if ahead else 0.0,
                      buffers=buffers)
    del flush
    return result


def save_outputs(outdir: Path, items: list[tuple[int, Any]]) -> dict[str, str]:
    """(input slot, output) pairs as plain CPU tensors, one file each, for the parent's re-check.
    Returns each file's SHA-256 by name (signed in the event log: see `save_tensors`)."""
    return {f"timed_{i}.pt": save_tensors(outdir / f"timed_{i}.pt", {"slot": slot, "out": plain_cpu(out)})
            for i, (slot, out) in enumerate(items)}


MARKER = "spin_kernel"  # torch.cuda._sleep's kernel: marks which stream is the timed one


def profile_streams(model, buffers, calls: int = 5) -> StreamProfileJson:
    """Kernels of a few synchronised calls on every stream: the streams the implementation used
    besides the timed (current) one, and its kernel time against the event time."""
    from torch.profiler import ProfilerActivity, profile

    event_ms = 0.0
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            torch.cuda._sleep(1)
            start, end = _Event(enable_timing=True), _Event(enable_timing=True)
            start.record()
            model(*buffers)
            end.record()
            _synchronize()
            event_ms += start.elapsed_time(end)
    kernels = profiled_kernels(prof)
    timed_streams = {e.get("args", {}).get("stream") for e in kernels if MARKER in e.get("name", "")}
    work = [e for e in kernels if MARKER not in e.get("name", "")]
    return {
        "calls": calls,
        "kernels": len(work),
        "streams": sorted({e.get("args", {}).get("stream") for e in work}),
        "timed_streams": sorted(timed_streams),
        "kernel_ms": sum(e.get("dur", 0) for e in work) / 1000.0,
        "event_ms": event_ms,
        "names": sorted({e.get("name", "")[:80] for e in work})[:20],
        # every distinct kernel, for the parent's witness check (tools/check/witness.py)
        "kernel_names": sorted({e.get("name", "") for e in work})[:WITNESS_NAMES_MAX],
    }


WITNESS_NAMES_MAX = 200


# Chrome-trace events as torch.profiler exports them: free-form external JSON.
def profiled_kernels(prof: Any) -> list[dict[str, Any]]:
    """The kernel events of a finished torch.profiler session (from its Chrome trace)."""
    import os
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    prof.export_chrome_trace(path)
    events = json.loads(Path(path).read_text()).get("traceEvents", [])
    os.unlink(path)
    return [e for e in events if e.get("cat") == "kernel"]


class KernelWitness:
    """On a GPU, the names of the kernels that ran inside the `with` block (torch.profiler,
    CUDA activity only); `names` stays None on the CPU. The checker's witness for the op
    accounting: see tools/check/witness.py."""

    def __init__(self, device: torch.device) -> None:
        self.enabled = device.type == "cuda"
        self.names: list[str] | None = None
        self._prof: Any = None

    def __enter__(self) -> KernelWitness:
        if self.enabled:
            from torch.profiler import ProfilerActivity, profile

            self._prof = profile(activities=[ProfilerActivity.CUDA])
            self._prof.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._prof is not None:
            self._prof.__exit__(*exc)
            self.names = sorted({e.get("name", "") for e in profiled_kernels(self._prof)})[:WITNESS_NAMES_MAX]


def build_reference(module: Any, device: torch.device, dtype: torch.dtype | None) -> torch.nn.Module:
    """`Model` exactly as the reference worker builds it (seed 42 before the constructor
    arguments and before the constructor), from the problem file alone: nothing on disk that a
    candidate's process could have touched goes into a baseline."""
    seed_everything(42)
    init_inputs = as_list(module.get_init_inputs())
    seed_everything(42)
    model = module.Model(*init_inputs)
    return (model.to(device=device, dtype=dtype) if dtype else model.to(device)).eval()


@dataclasses.dataclass(frozen=True)
class BaselinesRequest:
    """The baselines child's request (`check.baselines.compiled_baselines` writes it)."""

    problem_path: str
    problem_source: str | None
    device: str
    precision: str | None
    pool_seeds: list[int]
    baselines: list[str]
    result_path: str


class BaselineError(TypedDict):
    error: str


def main(request_text: str) -> int:
    """Time the torch.compile baselines named in the request, one after the other in this
    process; the result file is rewritten after each, so one that crashes keeps the others."""
    req = BaselinesRequest(**json.loads(request_text))
    device = torch.device(req.device)
    torch.cuda.set_device(device)
    dtype = DTYPES.get(req.precision or "")
    module = load_module("kw_problem", req.problem_path, req.problem_source)
    results: dict[str, StatsJson | BaselineError] = {}
    out = Path(req.result_path)
    with torch.inference_mode():
        pool = input_pool(module, device, dtype, req.pool_seeds)
        for name in req.baselines:
            results[name] = {"error": "the worker died while compiling or timing it"}
            write_json_atomic(out, results)
            try:
                torch._dynamo.reset()
                model = torch.compile(build_reference(module, device, dtype), mode=COMPILE_MODES[name])
                measured = measure(model, pool, device, compat=False)
                results[name] = measured.stats
                del model, measured
            except Exception as exc:  # noqa: BLE001 - a baseline that fails to compile is reported, not fatal
                lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()] or [type(exc).__name__]
                results[name] = {"error": f"{type(exc).__name__}: {lines[-1][:300]}"}
            write_json_atomic(out, results)
    return 0
