"""Child worker: time one implementation (reference eager, torch.compile baseline or candidate).

Protocol (EVAL_PROTOCOL.md, Timing): inference mode; before every call, fresh input contents
are copied into the call's buffers and L2 is flushed, both outside the timed window; CUDA events
around the call only; warm-up >= 10 calls and >= 25 ms; then 100 calls, or fewer (>= 10) once
1 s of calls has passed; median, IQR, min, n. `compat` mode is KernelBench's: 3 warm-ups,
100 calls, mean. The candidate is also run under the profiler to see every kernel on every
stream (timing escape), and the outputs of its last timed calls are saved for a re-check.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker.common import (
    DTYPES,
    cast_inputs,
    load_module,
    load_tensors,
    plain_cpu,
    save_tensors,
    seed_everything,
)
from kernelwright.tools.worker.reference import generate_inputs

WARMUP_MIN_CALLS, WARMUP_MIN_MS = 10, 25.0
TIMED_CALLS, TIMED_BUDGET_S, TIMED_MIN_CALLS = 100, 1.0, 10


def build(req: dict[str, Any]) -> tuple[torch.nn.Module, Any]:
    device = torch.device(req["device"])
    dtype = DTYPES.get(req.get("precision") or "")
    problem = load_module("kw_problem", req["problem_path"])
    shared = Path(req["shared_dir"])
    init_inputs = load_tensors(shared / "init_shipped.pt")
    weights = load_tensors(shared / "weights_shipped.pt")
    seed_everything(42)
    if req["role"] == "candidate":
        solution = load_module("kw_solution", req["solution_path"])
        model = solution.ModelNew(*init_inputs)
        own = model.state_dict()
        model.load_state_dict({k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}, strict=False)
    else:
        model = problem.Model(*init_inputs)
        model.load_state_dict(weights)
    model = (model.to(device=device, dtype=dtype) if dtype else model.to(device)).eval()
    if req["role"] == "compile-default":
        model = torch.compile(model)
    elif req["role"] == "compile-max-autotune":
        model = torch.compile(model, mode="max-autotune-no-cudagraphs")
    return model, problem


def input_pool(problem: Any, req: dict[str, Any]) -> list[list[Any]]:
    device, dtype = torch.device(req["device"]), DTYPES.get(req.get("precision") or "")
    pool = []
    for seed in req["pool_seeds"]:
        seed_everything(seed)
        pool.append(cast_inputs(generate_inputs(problem, device), device, dtype))
    return pool


def refill(buffers: list[Any], source: list[Any]) -> None:
    for dst, src in zip(buffers, source):
        if isinstance(dst, torch.Tensor):
            dst.copy_(src)


def timed_calls(model, buffers, pool, flush: torch.Tensor, n_max: int, budget_s: float, n_min: int, keep_last: int = 0):
    """Run calls with refill + flush outside CUDA-event windows. Returns (ms list, last outputs)."""
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(n_max)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(n_max)]
    kept: list[tuple[int, Any]] = []
    began = time.perf_counter()
    n = 0
    while n < n_max:
        slot = n % len(pool)
        refill(buffers, pool[slot])
        flush.zero_()
        starts[n].record()
        out = model(*buffers)
        ends[n].record()
        if keep_last and n >= n_max - keep_last:
            kept.append((slot, out))
        n += 1
        if n >= n_min and time.perf_counter() - began > budget_s:
            # Slow implementation: stop early; keep the last outputs for the re-check.
            torch.cuda.synchronize()
            if keep_last and not kept:
                kept.append((slot, out))
            break
    torch.cuda.synchronize()
    return [s.elapsed_time(e) for s, e in zip(starts[:n], ends[:n])], kept


def stats(ms: list[float], mean: bool) -> dict[str, Any]:
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


MARKER = "spin_kernel"  # torch.cuda._sleep's kernel: marks which stream is the timed one


def profile_streams(model, buffers, calls: int = 5) -> dict[str, Any]:
    """Kernels of a few synchronised calls on every stream: the streams the candidate used
    besides the timed (current) one, and its kernel time against the event time."""
    import os
    import tempfile

    from torch.profiler import ProfilerActivity, profile

    event_ms = 0.0
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            torch.cuda._sleep(1)
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            model(*buffers)
            end.record()
            torch.cuda.synchronize()
            event_ms += start.elapsed_time(end)
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    prof.export_chrome_trace(path)
    events = json.loads(Path(path).read_text()).get("traceEvents", [])
    os.unlink(path)
    kernels = [e for e in events if e.get("cat") == "kernel"]
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
    }


def main(req: dict[str, Any]) -> int:
    device = torch.device(req["device"])
    torch.cuda.set_device(device)
    compat = req.get("mode") == "compat"
    result: dict[str, Any] = {"role": req["role"]}
    with torch.inference_mode():
        model, problem = build(req)
        pool = input_pool(problem, req)
        buffers = [v.clone() if isinstance(v, torch.Tensor) else v for v in pool[0]]
        l2 = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 50 * 2**20)
        flush_bytes = max(256 * 2**20, 4 * l2)
        flush = torch.empty(flush_bytes // 4, dtype=torch.float32, device=device)
        result["flush_bytes"] = flush_bytes
        # Warm-up: also absorbs JIT/autotune compilation, outside every measurement.
        began, warm_calls = time.perf_counter(), 0
        while True:
            timed_calls(model, buffers, pool, flush, 1, 1e9, 1)
            warm_calls += 1
            enough = warm_calls >= (3 if compat else WARMUP_MIN_CALLS)
            if enough and (compat or (time.perf_counter() - began) * 1000 >= WARMUP_MIN_MS):
                break
        keep = len(pool) if req["role"] == "candidate" else 0
        if compat:
            ms, kept = timed_calls(model, buffers, pool, flush, TIMED_CALLS, 1e9, TIMED_CALLS, keep)
        else:
            ms, kept = timed_calls(model, buffers, pool, flush, TIMED_CALLS, TIMED_BUDGET_S, TIMED_MIN_CALLS, keep)
        result["stats"] = stats(ms, mean=compat)
        result["warmup_calls"] = warm_calls
        if req["role"] == "reference" and req.get("outputs_dir"):
            # The reference's output for every pool slot, for re-checking the candidate's timed calls.
            for slot, inputs in enumerate(pool):
                refill(buffers, inputs)
                kept.append((slot, model(*buffers)))
        if req.get("outputs_dir") and kept:
            outdir = Path(req["outputs_dir"])
            for i, (slot, out) in enumerate(kept):
                save_tensors(outdir / f"timed_{i}.pt", {"slot": slot, "out": plain_cpu(out)})
            result["saved_outputs"] = len(kept)
        if req["role"] == "candidate":
            result["profile"] = profile_streams(model, buffers)
    Path(req["result_path"]).write_text(json.dumps(result))
    return 0

