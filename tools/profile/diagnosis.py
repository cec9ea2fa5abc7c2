"""The profile in one plain, checkable paragraph: the bottleneck, the metric that shows it, the
headroom to the speed of light. Every clause names its number, so a reader (or the analyst role)
can check it against the metrics next to it. Example (tier 1): "memory-bound; DRAM 80% of peak
(the busiest unit); 1.3x headroom to SoL (42.2 us measured, 33.6 us SoL); occupancy 51% achieved
of 56% theoretical, limited by registers: 54 regs/thread; top stall long_scoreboard 10.6
cycles/issue".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernelwright.tools.profile.metrics import NcuMetrics, StaticMetrics, TimelineMetrics
    from kernelwright.tools.profile.report import ProfileReport
    from kernelwright.tools.profile.sol import RooflineReport

UNITS = (("dram_pct", "DRAM"), ("l2_pct", "L2"), ("l2_sectors_pct", "L2"), ("l1_pct", "L1/TEX"), ("sm_pct", "SM"))
LOW_TENSOR_PCT = 5.0


def _us(ms: float | None) -> str:
    return "?" if ms is None else f"{ms * 1000:.3g} us"


def roofline_clause(roof: RooflineReport | None) -> str | None:
    if not roof or not roof.get("t_sol_ms"):
        return None
    sol = roof["t_sol_ms"]
    peaks = roof.get("peaks") or {}
    where = f"{peaks.get('gpu') or 'this GPU'}, {'datasheet' if str(peaks.get('source', '')).startswith('datasheet') else 'measured'} peaks"
    if roof.get("headroom"):
        return f"{roof['headroom']:.2g}x headroom to SoL ({_us(roof['measured_ms'])} measured, {_us(sol)} SoL on {where})"
    return f"SoL {_us(sol)} on {where}"


def occupancy_clause(achieved: float | None, theoretical: float | None, limiter: str | None, registers: float | None, shared: float | None) -> str | None:
    if theoretical is None:
        return None
    text = f"occupancy {achieved:.0f}% achieved of {theoretical:.0f}% theoretical" if achieved is not None else f"theoretical occupancy {theoretical:.0f}%"
    if limiter:
        detail = {"registers": f": {registers:.0f} regs/thread" if registers else "",
                  "shared memory": f": {shared:.0f} B/block" if shared else ""}.get(limiter, "")
        text += f", limited by {limiter}{detail}"
    return text


def ncu_clauses(m: NcuMetrics, bound: str | None) -> list[str]:
    units = [(label, m[key]) for key, label in UNITS if m.get(key) is not None]
    out = []
    if units:
        label, pct = max(units, key=lambda u: u[1])
        out.append(f"{label} {pct:.0f}% of peak (the busiest unit)")
        if label != "DRAM" and m.get("dram_pct") is not None:
            out.append(f"DRAM {m['dram_pct']:.0f}% of peak")
    shared = (m.get("shared_static_bytes") or 0) + (m.get("shared_dynamic_bytes") or 0)
    occ = occupancy_clause(m.get("achieved_occupancy_pct"), m.get("theoretical_occupancy_pct"), m.get("occupancy_limiter"),
                           m.get("registers_per_thread"), shared)
    if occ:
        out.append(occ)
    stalls = m.get("top_stalls") or []
    if stalls and stalls[0].get("reason"):
        out.append(f"top stall {stalls[0]['reason']} {stalls[0]['cycles_per_issue']:.3g} cycles/issue")
    if m.get("local_memory_instructions"):
        out.append(f"{m['local_memory_instructions']:.0f} local-memory instructions (register spills)")
    if bound == "compute" and m.get("tensor_pct") is not None and m["tensor_pct"] < LOW_TENSOR_PCT:
        out.append(f"tensor pipes {m['tensor_pct']:.1f}% busy: the math runs on CUDA cores")
    return out


def timeline_clauses(m: TimelineMetrics) -> list[str]:
    if not m.get("event_ms"):
        return []
    out = [f"kernels busy {_us(m.get('busy_ms'))} of {_us(m['event_ms'])} per call "
           f"({m.get('launches_per_call', 0):.0f} launches, {_us(m.get('gap_ms'))} gaps between kernels)"]
    if len(m.get("streams") or []) > 1:
        out.append(f"work on {len(m['streams'])} streams")
    return out


def static_clauses(m: StaticMetrics) -> list[str]:
    out = []
    for k in m.get("kernels") or []:
        if k.get("error"):
            continue
        text = f"{m.get('arch', 'sm_90')} {k['kernel']}: {k['registers_per_thread']} regs/thread, {k['spills_bytes']} B spilled, {k['shared_bytes']} B shared"
        occ = occupancy_clause(None, k.get("theoretical_occupancy_pct"), k.get("occupancy_limiter"), k.get("registers_per_thread"), k.get("shared_bytes"))
        out.append(f"{text}, {occ}" if occ else text)
    return out[:3]


def diagnose(profile: ProfileReport) -> str:
    """One line for humans and the analyst; says plainly when nothing could be measured."""
    roof = profile.get("roofline") or {}
    bound = roof.get("bound")
    m = profile.get("metrics") or {}
    tier = profile.get("tier")
    clauses: list[str] = [f"{bound}-bound" if bound else "bound unknown (no bytes/flops for the roofline)"]
    if tier == 1:
        clauses += ncu_clauses(m, bound)
    elif tier == 2:
        clauses += timeline_clauses(m)
    rc = roofline_clause(roof)
    if rc:
        clauses.insert(1 if tier != 1 else min(2, len(clauses)), rc)
    if tier == 3:
        clauses += static_clauses(m) or ["no kernel resources"]
        if not roof.get("measured_ms"):
            clauses.append("not timed (static tier)")
    if tier is None:
        clauses.append("nothing measured")
    return "; ".join(clauses)
