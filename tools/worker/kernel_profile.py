"""Which kernels ran, from torch.profiler: the streams a timed implementation used and its kernel
time (`profile_streams`), and the kernel names the op accounting is witnessed by
(`KernelWitness`, see tools/check/witness.py)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from typing_extensions import (
    TypedDict,  # pydantic reads it (the parent's records): typing's before 3.12 it cannot
)

# Captured at import, which in the candidate's process is before its code runs.
_Event, _synchronize = torch.cuda.Event, torch.cuda.synchronize


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
