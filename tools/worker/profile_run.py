"""Child worker: run the profiled forward on a GPU, for Nsight Compute (tier 1) or the timeline (tier 2).

`python -m kernelwright.tools.worker.profile_run REQUEST.json`. Both modes warm up first (JIT
compilation and autotuning stay out of every measurement), then:
- `ncu`: the target of `ncu --profile-from-start off`: `calls` forwards between
  cudaProfilerStart and cudaProfilerStop, so ncu sees only those launches.
- `timeline`: `calls` forwards under torch.profiler (CPU + CUDA activity), each inside a
  `record_function("kw_call_<i>")` range, with L2 flushed before each call and CUDA events around
  the forward as in the check's timing. The kernels, memory copies, launch API calls and ranges
  of the trace are written out for the parent to attribute per call (`profile_timeline`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker.call_prep import L2Flush
from kernelwright.tools.worker.profile_common import StageFailed, build_subject, count_launches, finish
from kernelwright.tools.worker.profile_protocol import (
    ProfileRunAnswer,
    ProfileRunRequest,
    TimelineEvent,
    read_request,
)

WARMUP_MIN_CALLS, WARMUP_MIN_MS = 10, 25.0
GPU_CATEGORIES = ("kernel", "gpu_memcpy", "gpu_memset")
API_CATEGORIES = ("cuda_runtime", "cuda_driver")
NAME_CHARS = 300


def warm_up(model: torch.nn.Module, inputs: list[Any]) -> int:
    began, calls = time.perf_counter(), 0
    while calls < WARMUP_MIN_CALLS or (time.perf_counter() - began) * 1000 < WARMUP_MIN_MS:
        model(*inputs)
        torch.cuda.synchronize()
        calls += 1
    return calls


def under_ncu(model: torch.nn.Module, inputs: list[Any], calls: int) -> ProfileRunAnswer:
    torch.cuda.profiler.start()
    for _ in range(calls):
        model(*inputs)
    torch.cuda.synchronize()
    torch.cuda.profiler.stop()
    return {}


# A Chrome-trace event as torch.profiler exports it: free-form JSON from outside (its keys and
# `args` vary with the event's category and the torch version); `compact` keeps what we read.
def compact(event: dict[str, Any]) -> TimelineEvent:
    args = event.get("args") or {}
    return {"cat": event.get("cat"), "name": str(event.get("name", ""))[:NAME_CHARS], "ts": event.get("ts"),
            "dur": event.get("dur", 0), "stream": args.get("stream"), "correlation": args.get("correlation")}


def timeline(model: torch.nn.Module, inputs: list[Any], calls: int, device: torch.device) -> ProfileRunAnswer:
    from torch.profiler import ProfilerActivity, profile, record_function

    flush = L2Flush(device)  # the check's flush, so both time the same cache state
    event_ms = []
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for i in range(calls):
            flush()  # outside the range: its kernel is not the forward's
            with record_function(f"kw_call_{i}"):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model(*inputs)
                end.record()
                torch.cuda.synchronize()
            event_ms.append(start.elapsed_time(end))
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    prof.export_chrome_trace(path)
    trace = json.loads(Path(path).read_text()).get("traceEvents", [])
    os.unlink(path)
    keep = []
    for event in trace:
        cat = event.get("cat")
        if cat in GPU_CATEGORIES or (cat == "user_annotation" and str(event.get("name", "")).startswith("kw_call_")):
            keep.append(compact(event))
        elif cat in API_CATEGORIES and (event.get("args") or {}).get("correlation") is not None:
            keep.append(compact(event))
    return {"event_ms": event_ms, "events": keep}


def main(req: ProfileRunRequest) -> int:
    device = torch.device(req.device)
    torch.cuda.set_device(device)
    result: ProfileRunAnswer = {"ok": False, "mode": req.mode, "calls": req.calls}
    launches = count_launches(req.solution_path)
    before: dict[str, int] = {}
    try:
        with torch.inference_mode():
            model, inputs = build_subject(req)
            try:
                result["warmup_calls"] = warm_up(model, inputs)
                before = dict(launches.own) if launches else {}
                if req.mode == "ncu":
                    result.update(under_ncu(model, inputs, req.calls))
                else:
                    result.update(timeline(model, inputs, req.calls, device))
            except Exception as exc:  # noqa: BLE001
                raise StageFailed("forward", exc) from exc
        result["ok"] = True
    except StageFailed as exc:
        result.update(stage=exc.stage, error=exc.text)
    return finish(req, result, launches, before)


if __name__ == "__main__":
    sys.exit(main(read_request(ProfileRunRequest, sys.argv[1])))
