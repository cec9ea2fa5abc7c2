"""Reading Nsight Compute's CSV (the "details" page: `ncu --csv ...` or `ncu --import R --csv`).

One row per (kernel launch, metric) or per (launch, rule), in long format: ID, Kernel Name,
Block Size, Grid Size, Section Name, Metric Name, Metric Unit, Metric Value [, Rule Name, Rule
Type, Rule Description, ...]. Raw metric names (from `--metrics`) and the section tables' labels
(from `--section SpeedOfLight` etc.) both map onto one set of canonical keys (`METRIC_KEYS`), so
either kind of run gives the same compact record. Values lose their thousands separators and
times are normalised to nanoseconds, sizes to bytes. Lines that are not CSV (`==PROF==`, the
application's own output) are skipped. Pure functions: tested on captured H100 output.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import statistics
from collections.abc import Mapping

from kernelwright.tools.profile.metrics import NcuKernel, NcuMetrics, Stall

# canonical key -> the raw metric names and section labels that carry it
METRIC_KEYS: dict[str, tuple[str, ...]] = {
    "duration_ns": ("gpu__time_duration.sum", "Duration"),
    "dram_pct": ("dram__throughput.avg.pct_of_peak_sustained_elapsed", "DRAM Throughput"),
    "memory_pct": ("gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed", "Memory Throughput"),
    "l2_pct": ("lts__throughput.avg.pct_of_peak_sustained_elapsed", "L2 Cache Throughput"),
    "l2_sectors_pct": ("lts__t_sectors.avg.pct_of_peak_sustained_elapsed",),
    "l1_pct": ("l1tex__throughput.avg.pct_of_peak_sustained_active", "L1/TEX Cache Throughput"),
    "sm_pct": ("sm__throughput.avg.pct_of_peak_sustained_elapsed", "Compute (SM) Throughput"),
    "tensor_pct": ("sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",),
    "achieved_occupancy_pct": ("sm__warps_active.avg.pct_of_peak_sustained_active", "Achieved Occupancy"),
    "theoretical_occupancy_pct": ("sm__maximum_warps_per_active_cycle_pct", "Theoretical Occupancy"),
    "registers_per_thread": ("launch__registers_per_thread", "Registers Per Thread"),
    "shared_static_bytes": ("launch__shared_mem_per_block_static", "Static Shared Memory Per Block"),
    "shared_dynamic_bytes": ("launch__shared_mem_per_block_dynamic", "Dynamic Shared Memory Per Block"),
    "instructions": ("smsp__inst_executed.sum", "Executed Instructions"),
    "local_load_instructions": ("smsp__sass_inst_executed_op_local_ld.sum",),
    "local_store_instructions": ("smsp__sass_inst_executed_op_local_st.sum",),
    "warp_cycles_per_issue": ("smsp__average_warp_latency_per_inst_issued.ratio", "Warp Cycles Per Issued Instruction"),
    "block_limit_registers": ("launch__occupancy_limit_registers", "Block Limit Registers"),
    "block_limit_shared_mem": ("launch__occupancy_limit_shared_mem", "Block Limit Shared Mem"),
    "block_limit_warps": ("launch__occupancy_limit_warps", "Block Limit Warps"),
    "block_limit_blocks": ("launch__occupancy_limit_blocks", "Block Limit SM"),
    "sm_frequency_hz": ("SM Frequency",),
    "dram_frequency_hz": ("DRAM Frequency",),
}
_BY_NAME = {name: key for key, names in METRIC_KEYS.items() for name in names}
_STALL = re.compile(r"^smsp__average_warps_issue_stalled_(\w+?)_per_issue_active\.ratio$")
# What limits occupancy, from the block limit that is smallest.
LIMITERS = {
    "block_limit_registers": "registers",
    "block_limit_shared_mem": "shared memory",
    "block_limit_warps": "warps per block",
    "block_limit_blocks": "blocks per SM",
}
# Words of ncu's stall-rule text -> the stall reason's metric name.
_STALL_WORDS = [
    ("scoreboard dependency on a L1TEX", "long_scoreboard"), ("scoreboard dependency on a MIO", "short_scoreboard"),
    ("MIO", "mio_throttle"), ("L1 instruction queue", "lg_throttle"), ("barrier", "barrier"),
    ("fixed latency execution dependency", "wait"), ("math pipe", "math_pipe_throttle"),
    ("branch target", "branch_resolving"), ("memory barrier", "membar"), ("instruction", "no_instruction"),
]
_TIME_NS = {"ns": 1.0, "nsecond": 1.0, "us": 1e3, "usecond": 1e3, "ms": 1e6, "msecond": 1e6, "s": 1e9, "second": 1e9}
_BYTES = {"byte": 1.0, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "KB": 1e3, "MB": 1e6, "KiB": 1024.0, "MiB": 1024.0**2}


def number(text: str) -> float | None:
    """'2,617,384,731.67' -> 2617384731.67; '' / 'n/a' -> None."""
    cleaned = (text or "").replace(",", "").strip()
    try:
        return float(cleaned)
    except ValueError:
        return None


def scaled(value: float, unit: str, key: str) -> float:
    """Times in ns and sizes in bytes, whatever unit ncu printed (`--print-units auto|base`)."""
    base = unit.split("/")[0].strip()
    if key == "duration_ns":
        return value * _TIME_NS.get(base, 1.0)
    if key.endswith("_bytes"):
        return value * _BYTES.get(base, 1.0)
    return value


def short_kernel_name(name: str) -> str:
    """The bare function name of a (possibly demangled C++) kernel name, as ncu's
    `--kernel-name-base function` matches it: 'void at::<unnamed>::k<float>(int)' -> 'k'."""
    text = name.replace("(anonymous namespace)", "anon").replace("<unnamed>", "anon").strip()
    text = re.sub(r"^(?:void|static|__global__)\s+", "", text)
    depth, cut = 0, len(text)
    for i, ch in enumerate(text):
        if ch in "<(" and depth == 0:
            cut = i
            break
    return text[:cut].split("::")[-1].strip() or name


def _dims(text: str) -> list[int]:
    return [int(v) for v in re.findall(r"\d+", text or "")]


def _stall_from_rule(text: str) -> Stall | None:
    m = re.search(r"spends ([\d.]+) cycles being stalled (.+?)\. ", text + " ")
    if not m:
        return None
    share = re.search(r"represents about ([\d.]+)% of the total", text)
    reason = next((r for words, r in _STALL_WORDS if words in m.group(2)), None)
    return {"reason": reason, "cycles_per_issue": float(m.group(1)), "share_pct": float(share.group(1)) if share else None,
            "text": m.group(2), "source": "ncu rule"}


@dataclasses.dataclass(frozen=True)
class NcuRule:
    """One of ncu's rule results (its guidance) for a launch."""

    section: str | None
    rule: str
    type: str | None  # "OPT", "WRN", "INF", ...
    text: str
    speedup_pct: float | None


@dataclasses.dataclass(frozen=True)
class RawMetric:
    unit: str
    value: float | str | None  # the number, or the text ncu printed when it is not one


@dataclasses.dataclass(frozen=True)
class NcuLaunch:
    """One profiled kernel launch."""

    id: int
    name: str
    short_name: str
    block: list[int]
    grid: list[int]
    stream: str | None
    cc: str | None
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)  # canonical keys (METRIC_KEYS)
    raw: dict[str, RawMetric] = dataclasses.field(default_factory=dict)  # every metric as printed
    stalls: dict[str, float] = dataclasses.field(default_factory=dict)  # stall reason -> cycles per issued instruction
    rules: list[NcuRule] = dataclasses.field(default_factory=list)


def parse_ncu_csv(text: str) -> list[NcuLaunch]:
    """One record per profiled launch, in launch order."""
    # csv.DictReader's rows: ncu's columns by name (the CSV's own, free-form text).
    rows = csv.DictReader(line for line in text.splitlines() if line.startswith('"'))
    launches: dict[int, NcuLaunch] = {}
    for row in rows:
        try:
            launch_id = int(row.get("ID") or "")
        except ValueError:
            continue
        rec = launches.setdefault(launch_id, NcuLaunch(
            id=launch_id, name=row.get("Kernel Name", ""), short_name=short_kernel_name(row.get("Kernel Name", "")),
            block=_dims(row.get("Block Size", "")), grid=_dims(row.get("Grid Size", "")), stream=row.get("Stream"), cc=row.get("CC"),
        ))
        metric, unit = (row.get("Metric Name") or "").strip(), (row.get("Metric Unit") or "").strip()
        if row.get("Rule Name"):
            rec.rules.append(NcuRule(section=row.get("Section Name"), rule=row["Rule Name"], type=row.get("Rule Type"),
                                     text=row.get("Rule Description", ""), speedup_pct=number(row.get("Estimated Speedup") or "")))
            continue
        if not metric:
            continue
        value = number(row.get("Metric Value", ""))
        rec.raw[metric] = RawMetric(unit, value if value is not None else row.get("Metric Value"))
        if value is None:
            continue
        stall = _STALL.match(metric)
        if stall:
            rec.stalls[stall.group(1)] = value
        elif metric in _BY_NAME:
            key = _BY_NAME[metric]
            rec.metrics[key] = scaled(value, unit, key)
    return [launches[k] for k in sorted(launches)]


def occupancy_limiter(metrics: Mapping[str, float]) -> str | None:
    """What caps theoretical occupancy: the smallest block limit; None if it reaches 100%."""
    if (metrics.get("theoretical_occupancy_pct") or 0) >= 99.9:
        return None
    limits = {name: metrics[key] for key, name in LIMITERS.items() if metrics.get(key) is not None}
    if not limits:
        return None
    low = min(limits.values())
    return " and ".join(name for name, v in limits.items() if v == low)


def top_stalls(record: NcuLaunch, n: int = 3) -> list[Stall]:
    """The largest warp-stall reasons in cycles per issued instruction: from the stall metrics
    when they were collected, else from the text of ncu's CPIStall rule."""
    if record.stalls:
        ranked = sorted(record.stalls.items(), key=lambda kv: -kv[1])
        total = record.metrics.get("warp_cycles_per_issue")
        return [{"reason": r, "cycles_per_issue": v, "share_pct": 100 * v / total if total else None, "source": "ncu metric"}
                for r, v in ranked[:n] if v > 0]
    found = [s for rule in record.rules if rule.rule == "CPIStall" for s in [_stall_from_rule(rule.text)] if s]
    return sorted(found, key=lambda s: -s["cycles_per_issue"])[:n]


def summarize_launches(records: list[NcuLaunch], calls: int) -> NcuMetrics:
    """Per kernel name (launch-averaged) and for the whole forward: duration per call, and the
    throughput and occupancy figures of the kernel that takes the most time (where time goes)."""
    by_name: dict[str, list[NcuLaunch]] = {}
    for rec in records:
        by_name.setdefault(rec.short_name, []).append(rec)
    kernels: list[NcuKernel] = []
    for name, recs in by_name.items():
        keys = {k for r in recs for k in r.metrics}
        mean = {k: statistics.fmean(r.metrics[k] for r in recs if k in r.metrics) for k in sorted(keys)}
        total_ns = sum(r.metrics.get("duration_ns", 0.0) for r in recs)
        spills = (mean.get("local_load_instructions") or 0) + (mean.get("local_store_instructions") or 0)
        block = recs[0].block
        kernels.append({
            "name": name,
            "launches": len(recs),
            "launches_per_call": len(recs) / calls if calls else None,
            "total_ms": total_ns / 1e6,
            "block": block,
            "grid": recs[0].grid,
            **{k: round(v, 4) for k, v in mean.items()},
            "local_memory_instructions": spills if ("local_load_instructions" in mean or "local_store_instructions" in mean) else None,
            "occupancy_limiter": occupancy_limiter(mean),
            "top_stalls": top_stalls(recs[0]),
            "rules": sorted({r.rule for rec in recs for r in rec.rules if r.type in ("OPT", "WRN")}),
        })
    kernels.sort(key=lambda k: -k["total_ms"])
    total_ms = sum(k["total_ms"] for k in kernels)
    for k in kernels:
        k["share_pct"] = 100 * k["total_ms"] / total_ms if total_ms else None
    summary: NcuMetrics = {
        "kernel_launches": len(records),
        "calls": calls,
        "duration_ms": total_ms / calls if calls and total_ms else None,
        "kernels": kernels,
    }
    if kernels:
        main = kernels[0]
        summary["dominant_kernel"] = main["name"]
        for key in ("dram_pct", "memory_pct", "l2_pct", "l2_sectors_pct", "l1_pct", "sm_pct", "tensor_pct", "achieved_occupancy_pct",
                    "theoretical_occupancy_pct", "registers_per_thread", "shared_static_bytes", "shared_dynamic_bytes",
                    "warp_cycles_per_issue", "local_memory_instructions", "occupancy_limiter", "top_stalls"):
            if main.get(key) is not None or key == "occupancy_limiter":
                summary[key] = main.get(key)
        counted = [k for k in kernels if k.get("instructions") is not None]
        if counted and calls:
            summary["instructions_per_call"] = sum(k["instructions"] * k["launches"] for k in counted) / calls
    return summary
