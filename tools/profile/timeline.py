"""Tier 2, the timeline: kernel times on every stream, launches and gaps, per forward call.

The `profile_run` child (mode `timeline`) runs the forward under torch.profiler with each call
inside a `kw_call_<i>` range and CUDA events around it. Here the GPU activities (kernels, copies,
memsets) are attributed to calls through the launch API call that issued each one (same
correlation id, inside the call's range on the CPU timeline), so work on any stream counts and
the L2 flush between calls does not. Per call: kernel time (sum), busy time (union of the
intervals), span (first start to last end), gaps (span minus busy), launches.
"""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path

from kernelwright.tools.profile.answers import PROFILE_RUN, read_answer
from kernelwright.tools.profile.metrics import TimelineKernel, TimelineMetrics
from kernelwright.tools.profile.ncu_csv import short_kernel_name
from kernelwright.tools.profile.report import TierResult
from kernelwright.tools.profile.static import child_failure
from kernelwright.tools.sandbox.child import run_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.worker.profile_protocol import ProfileRunRequest, TimelineEvent

TIMELINE_CALLS = 20
GPU_WORK = ("kernel", "gpu_memcpy", "gpu_memset")


def _union_us(intervals: list[tuple[float, float]]) -> float:
    busy, end = 0.0, None
    for start, stop in sorted(intervals):
        if end is None or start > end:
            busy += stop - start
            end = stop
        elif stop > end:
            busy += stop - end
            end = stop
    return busy


@dataclasses.dataclass
class _KernelTotals:
    """One kernel (or copy, memset) summed over the calls."""

    name: str
    short_name: str
    kind: str
    count: int = 0
    total_us: float = 0.0
    streams: set[int | None] = dataclasses.field(default_factory=set)


def attribute_calls(events: list[TimelineEvent], calls: int) -> tuple[list[list[TimelineEvent]], int]:
    """GPU activities grouped per call, and how many could not be attributed to any call."""
    ranges = sorted((e for e in events if e["cat"] == "user_annotation"), key=lambda e: e["ts"])
    windows = {}
    for e in ranges:
        try:
            windows[int(e["name"].removeprefix("kw_call_"))] = (e["ts"], e["ts"] + e["dur"])
        except ValueError:
            continue
    launched_at = {e["correlation"]: e["ts"] for e in events if e["cat"] in ("cuda_runtime", "cuda_driver") and e.get("correlation") is not None}
    per_call: list[list[TimelineEvent]] = [[] for _ in range(calls)]
    lost = 0
    for e in events:
        if e["cat"] not in GPU_WORK:
            continue
        # The launch's CPU time places the work in a call; without one, the work's own start.
        t = launched_at.get(e.get("correlation"), e["ts"])
        index = next((i for i, (a, b) in windows.items() if a <= t <= b and i < calls), None)
        if index is None:
            lost += 1
        else:
            per_call[index].append(e)
    return per_call, lost


def summarize_timeline(events: list[TimelineEvent], event_ms: list[float], own_names: set[str]) -> TimelineMetrics:
    """The timeline metrics: medians over calls, and a per-kernel table across streams."""
    calls = len(event_ms)
    per_call, lost = attribute_calls(events, calls)
    rows = []
    for work in per_call:
        kernels = [e for e in work if e["cat"] == "kernel"]
        spans = [(e["ts"], e["ts"] + e["dur"]) for e in work]
        busy = _union_us(spans)
        span = (max(b for _, b in spans) - min(a for a, _ in spans)) if spans else 0.0
        rows.append({"kernel_us": sum(e["dur"] for e in kernels), "busy_us": busy, "span_us": span,
                     "gap_us": max(span - busy, 0.0), "launches": len(kernels), "copies": len(work) - len(kernels)})
    table: dict[str, _KernelTotals] = {}
    for work in per_call:
        for e in work:
            name = e["name"] if e["cat"] == "kernel" else e["cat"]
            row = table.setdefault(name, _KernelTotals(name[:160], short_kernel_name(name), e["cat"]))
            row.count += 1
            row.total_us += e["dur"]
            row.streams.add(e.get("stream"))
    total_us = sum(r.total_us for r in table.values())
    kernels: list[TimelineKernel] = []
    for r in sorted(table.values(), key=lambda r: -r.total_us):
        kernels.append({
            "name": r.name, "short_name": r.short_name, "kind": r.kind,
            "own": r.short_name in own_names,
            "launches_per_call": r.count / calls if calls else None,
            "mean_us": r.total_us / r.count,
            "share_pct": 100 * r.total_us / total_us if total_us else None,
            "streams": sorted(s for s in r.streams if s is not None),
        })

    def med(key: str) -> float | None:
        values = [row[key] for row in rows]
        return statistics.median(values) if values else None

    streams = sorted({s for k in kernels for s in k["streams"]})
    return {
        "calls": calls,
        "event_ms": statistics.median(event_ms) if event_ms else None,
        "event_ms_min": min(event_ms) if event_ms else None,
        "kernel_ms": (med("kernel_us") or 0.0) / 1000,
        "busy_ms": (med("busy_us") or 0.0) / 1000,
        "span_ms": (med("span_us") or 0.0) / 1000,
        "gap_ms": (med("gap_us") or 0.0) / 1000,
        "launches_per_call": med("launches"),
        "copies_per_call": med("copies"),
        "own_launches_per_call": sum(k["launches_per_call"] or 0 for k in kernels if k["own"]),
        "streams": streams,
        "kernels": kernels[:20],
        "unattributed_activities": lost,
    }


def timeline_profile(problem_path: Path, solution_path: Path | None, device: str, workdir: Path, timeout_s: float, own_names: set[str], calls: int = TIMELINE_CALLS) -> TierResult:
    """{"metrics", "device_facts"} or {"failure": reason}."""
    workdir.mkdir(parents=True, exist_ok=True)
    result_path = workdir / "timeline.result.json"
    request = workdir / "timeline.request.json"
    ProfileRunRequest(mode="timeline", problem_path=str(problem_path), solution_path=str(solution_path) if solution_path else None,
                      device=device, calls=calls, result_path=str(result_path)).write(request)
    readable = (Path(problem_path),) + ((Path(solution_path),) if solution_path else ())
    child = run_child(["kernelwright.tools.worker.profile_run", str(request)], workdir, timeout_s, log_name="timeline",
                      mounts=Mounts(readable=readable), device=device)
    result = read_answer(PROFILE_RUN, result_path, {})
    if not result.get("ok"):
        return {"failure": child_failure(child, result, "the profiled forward"), "device_facts": result.get("device_facts") or {}}
    names = own_names | {k.removeprefix("cuda:") for k in (result.get("own_launches") or {})}
    metrics = summarize_timeline(result.get("events", []), result.get("event_ms", []), names)
    if not metrics["launches_per_call"]:
        why = "the profiler recorded no GPU work inside the forward calls"
        return {"failure": f"{why} ({metrics['unattributed_activities']} activities outside them)", "device_facts": result.get("device_facts") or {}}
    metrics["warmup_calls"] = result.get("warmup_calls")
    return {"metrics": metrics, "device_facts": result.get("device_facts") or {}}
