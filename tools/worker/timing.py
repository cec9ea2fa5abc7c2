"""Timing on the GPU, inside a worker: the loops every timed implementation shares.

Protocol (the evaluation protocol's timing rules): inference mode; before every call, fresh input
contents are copied into the call's buffers and L2 is flushed (by a read), both outside the timed
window, then the GPU gets a head start so the events time the device, not the host's Python (both
in `call_prep`); CUDA events around the call only; warm-up >= 10 calls and >= 25 ms; then 100
calls, or fewer (>= 10) once 1 s of calls has passed; median, IQR, min, n. `compat` mode is
KernelBench's: 3 warm-ups, 100 calls, mean. Who runs these loops: the reference worker (eager,
before and after the candidate), the candidate worker (after its guarded checks, watched by
`call_watch.CallWatch`; see `candidate_timing`) and, once per problem and toolchain, the baselines
worker (`baselines`: the torch.compile baselines).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from typing_extensions import (
    TypedDict,  # pydantic reads it (the parent's records): typing's before 3.12 it cannot
)

from kernelwright.tools.worker.call_prep import HeadStart, L2Flush
from kernelwright.tools.worker.call_watch import CallWatch, storages
from kernelwright.tools.worker.common import (
    cast_inputs,
    generate_inputs,
    save_tensors,
    seed_everything,
)
from kernelwright.tools.worker.output_capture import plain_cpu
from kernelwright.tools.worker.output_file import write_output

# Captured at import, which in the candidate's process is before its code runs; the copy through
# the class, so an instance attribute `copy_` set on a call buffer by the forward is never called
# (red team pass 11: one computed the next call's answer in the refill, outside every window).
_Event, _synchronize, _clock = torch.cuda.Event, torch.cuda.synchronize, time.perf_counter
_copy, _Tensor = torch.Tensor.copy_, torch.Tensor


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
    held: list[Any]  # the last call's output: the caller drops it where its finalisers do no harm


WARMUP_MIN_CALLS, WARMUP_MIN_MS = 10, 25.0
TIMED_CALLS, TIMED_BUDGET_S, TIMED_MIN_CALLS = 100, 1.0, 10


def input_pool(module: Any, device: torch.device, dtype: torch.dtype | None, seeds: list[int]) -> list[list[Any]]:
    """One input set per seed, drawn by the problem's get_inputs on the device."""
    pool = []
    for seed in seeds:
        seed_everything(seed)
        pool.append(cast_inputs(generate_inputs(module, device), device, dtype))
    return pool


def refill(buffers: list[Any], source: list[Any]) -> None:
    for dst, src in zip(buffers, source):
        if type(dst) is _Tensor:  # the checker's own clones (`measure`): exact tensors
            _copy(dst, src)


def timed_calls(model, buffers, pool, flush: L2Flush, n_max: int, budget_s: float, n_min: int, watch: CallWatch | None = None,
                guard: Any = None, head_start: HeadStart | None = None, host_s: list[float] | None = None,
                held: list[Any] | None = None, inspect: Callable[[Any, list[Any]], None] | None = None) -> list[float]:
    """Calls with refill + flush outside CUDA-event windows; the event times in ms. `guard`, a
    context manager, is entered around each call alone (never the refill or the flush, whose
    reduction the candidate's op accounting would count as the candidate's). `head_start` runs
    between the flush and the start event; `host_s` collects each call's host time in seconds.

    No output is dropped outside a call's window (and its `guard`): the last one waits in `held`
    (the caller's list, across loops) and the watch's retired ones in the watch, and both are let go
    inside the next window. A finaliser tied to an output (the candidate's code) could otherwise
    compute the next call's answer between two windows, untimed and unaccounted.

    `inspect(out, buffers)` runs right after each call's window, before anything of the checker's
    touches the output or the buffers again (the watch, the next refill and flush): the candidate's
    worker raises there when the call left anything that would run its code in those steps
    (`candidate_timing.inspect_timed_call`)."""
    held = [] if held is None else held
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
            held.clear()
            if watch:
                watch.let_go()
            out = model(*buffers)
            if host_s is not None:
                host_s.append(_clock() - issued)
            ends[n].record()
        if inspect is not None:
            inspect(out, buffers)
        if watch:
            watch.after(n, slot, out)
        held.append(out)
        del out  # `held` has it: the loop's own name must not be what drops it (at the next call's return)
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


def measure(model, pool: list[list[Any]], device: torch.device, compat: bool, watch: CallWatch | None = None, warmup_guard: Any = None,
            inspect: Callable[[Any, list[Any]], None] | None = None) -> Measured:
    """Warm-up, then the timed calls (call under torch.inference_mode()). `warmup_guard`, a context
    manager, is entered around each warm-up call (the candidate's op accounting); `inspect` runs
    after every warm-up and timed call (`timed_calls`)."""
    buffers = [v.clone() if isinstance(v, torch.Tensor) else v for v in pool[0]]
    held: list[Any] = []  # one list through the warm-up and the timed calls (`timed_calls`)
    if watch is not None:
        watch.input_storages = storages(buffers)
    flush = L2Flush(device)
    # Warm-up: also absorbs JIT/autotune compilation, outside every measurement.
    began, warm_calls, host_s = _clock(), 0, []
    while True:
        timed_calls(model, buffers, pool, flush, 1, 1e9, 1, guard=warmup_guard, host_s=host_s, held=held, inspect=inspect)
        warm_calls += 1
        enough = warm_calls >= (3 if compat else WARMUP_MIN_CALLS)
        if enough and (compat or (_clock() - began) * 1000 >= WARMUP_MIN_MS):
            break
    if compat:
        ahead = None
        ms = timed_calls(model, buffers, pool, flush, TIMED_CALLS, 1e9, TIMED_CALLS, watch, held=held, inspect=inspect)
    else:
        ahead = HeadStart(device)
        ahead.cover(host_s)
        ms = timed_calls(model, buffers, pool, flush, TIMED_CALLS, TIMED_BUDGET_S, TIMED_MIN_CALLS, watch, head_start=ahead, held=held, inspect=inspect)
    result = Measured(stats=stats(ms, mean=compat), warmup_calls=warm_calls, flush_bytes=flush.nbytes, flush=flush.mode,
                      host_call_us=round(statistics.median(host_s) * 1e6, 1), head_start_us=round(ahead.seconds * 1e6, 1) if ahead else 0.0,
                      buffers=buffers, held=held)
    del flush
    return result


def save_outputs(outdir: Path, items: list[tuple[int, Any]]) -> int:
    """The reference's (input slot, output) pairs as plain CPU tensors, one file each, for the
    parent's re-check; how many files."""
    for i, (slot, out) in enumerate(items):
        save_tensors(outdir / f"timed_{i}.pt", {"slot": slot, "out": plain_cpu(out)})
    return len(items)


def write_candidate_outputs(outdir: str, items: list[tuple[int, Any]]) -> dict[str, str]:
    """The candidate's (input slot, output) pairs, one file each in the checker's own format
    (`output_file`), and each file's digest by name (signed in the event log)."""
    return {f"timed_{i}.pt": write_output(f"{outdir}/timed_{i}.pt", {"slot": slot, "out": out}) for i, (slot, out) in enumerate(items)}

