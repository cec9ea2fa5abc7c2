"""`profile_solution`: the best profile this machine can give, and the roofline around it.

Tiers, best first; each one that cannot run here or fails says why in `missing`, and the next
one is tried (a forced `tier` is the only one tried):
1. Nsight Compute (`profile_ncu`): GPU + ncu + counter permission.
2. Timeline (`profile_timeline`): GPU; torch.profiler kernel times on every stream, CUDA events.
3. Static (`profile_static`): anywhere; the compiler's registers/spills/shared memory for sm_90
   (or the GPU here) and the occupancy they allow.
Every profile also gets the roofline of the problem (`roofline_report`: the reference's minimum
bytes and flops against measured peaks, else a datasheet's) and a one-line `diagnosis`.
Candidate and reference code only run in sandboxed children. Raises InputError for bad input
only; a subject that fails while profiled is reported in `missing`.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kernelwright.tools.devices import resolve_device, versions
from kernelwright.tools.problem import InputError, load_problem, load_solution
from kernelwright.tools.profile.diagnosis import diagnose
from kernelwright.tools.profile.metrics import TierMetrics
from kernelwright.tools.profile.ncu import find_ncu, ncu_profile, own_kernel_names
from kernelwright.tools.profile.peaks import DevicePeaks
from kernelwright.tools.profile.report import Known, ProfileReport, TierResult
from kernelwright.tools.profile.roofline import (
    TARGET_CARD,
    datasheet_peaks,
    device_peaks,
    known_card,
    problem_cost,
    roofline_report,
)
from kernelwright.tools.profile.static import static_profile
from kernelwright.tools.profile.timeline import timeline_profile

TIER_NAMES = {1: "Nsight Compute", 2: "timeline", 3: "static"}
NO_GPU = "no CUDA GPU here (device cpu)"
NO_NCU = "ncu not found (install Nsight Compute, put ncu on PATH or set KERNELWRIGHT_NCU)"
MIN_TIER_BUDGET_S = 10.0  # a GPU tier with less time left is skipped for the static one
DEFAULT_ARCH = 90


@dataclasses.dataclass
class ProfileOptions:
    device: str = "auto"
    tier: int | None = None  # force one tier; None: the best available
    timeout_s: float = 300.0  # each sandboxed step
    budget_s: float | None = None  # the whole profile (the graph's node); None: unbounded
    home: Path | None = None  # measured device peaks are cached here
    keep_workdir: bool = False
    progress: Callable[[str], None] | None = None

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def tier_availability(device: str, ncu: str | None) -> dict[int, str | None]:
    """tier -> None if it can run on this machine, else why not."""
    gpu = device.startswith("cuda")
    return {1: (None if ncu else NO_NCU) if gpu else NO_GPU, 2: None if gpu else NO_GPU, 3: None}


def plan_tiers(available: dict[int, str | None], forced: int | None) -> list[int]:
    """The tiers to try, in order. A forced tier that cannot run here is bad input."""
    if forced is not None:
        if forced not in available:
            raise InputError(f"--tier {forced}: expected 1 (Nsight Compute), 2 (timeline) or 3 (static)")
        if available[forced]:
            raise InputError(f"--tier {forced} ({TIER_NAMES[forced]}) cannot run here: {available[forced]}; drop --tier to use the best available")
        return [forced]
    return [t for t in (1, 2, 3) if available[t] is None]


def _arch(facts: dict[str, str]) -> int:
    sm = str(facts.get("sm") or "")
    return int(sm.removeprefix("sm_")) if sm.removeprefix("sm_").isdigit() else DEFAULT_ARCH


def resolve_peaks(device: str, facts: dict[str, str], opts: ProfileOptions, workdir: Path, missing: list[str]) -> DevicePeaks | None:
    """Measured peaks of the GPU here (cached in the home), else its datasheet's; on the CPU the
    datasheet of the card the static compile targets."""
    if not device.startswith("cuda"):
        card = TARGET_CARD.get(_arch(facts), TARGET_CARD[DEFAULT_ARCH])
        missing.append(f"measured peaks: {NO_GPU}; the roofline uses the datasheet figures of the {card} (the sm_{_arch(facts)} target)")
        return datasheet_peaks(card)
    gpu = facts.get("gpu") or ""
    peaks = device_peaks(opts.home, device, gpu, workdir / "peaks") if opts.home and gpu else None
    if peaks:
        return {**peaks, "source": "measured (copy bandwidth, matmul rate)"}
    card = known_card(gpu)
    if card:
        missing.append(f"measured peaks: not measured for {gpu or 'this GPU'}; datasheet figures of the {card} are used")
        return datasheet_peaks(card)
    missing.append(f"roofline: no measured peaks and {gpu or 'this GPU'} is not in the table of known cards")
    return None


def _measured(tier: int | None, metrics: TierMetrics, known: Known) -> tuple[float | None, str | None, float | None]:
    """(time per call in ms, what measured it, GPU busy ms per call) for the roofline."""
    if known.get("median_ms"):
        return known["median_ms"], "check (median of CUDA-event timings)", metrics.get("busy_ms")
    if tier == 1 and metrics.get("duration_ms"):
        return metrics["duration_ms"], "ncu (sum of the profiled kernels' durations per call)", None
    if tier == 2 and metrics.get("event_ms"):
        return metrics["event_ms"], "CUDA events (median per call, L2 flushed)", metrics.get("busy_ms")
    return None, None, None


@dataclasses.dataclass
class Subject:
    """What every tier profiles, and where."""

    ncu: str | None
    problem_path: Path
    solution_path: Path | None
    source: str  # the solution's ("" for the reference)
    device: str
    workdir: Path
    facts: dict[str, str]  # the GPU's (name, sm, cuda, driver), as the children found them
    known: Known


def run_tier(tier: int, ctx: Subject, timeout_s: float) -> TierResult:
    workdir = ctx.workdir / TIER_NAMES[tier].split()[0].lower()
    if tier == 1:  # planned only where ncu was found
        return ncu_profile(ctx.ncu or "ncu", ctx.problem_path, ctx.solution_path, ctx.source, ctx.device, workdir, timeout_s)
    if tier == 2:
        return timeline_profile(ctx.problem_path, ctx.solution_path, ctx.device, workdir, timeout_s, set(own_kernel_names(ctx.source)))
    return static_profile(ctx.problem_path, ctx.solution_path, ctx.source, ctx.device, workdir,
                          timeout_s, _arch(ctx.facts), ctx.known.get("resources"))


def profile_solution(problem_path: str | Path, solution_path: str | Path | None, opts: ProfileOptions | None = None, known: Known | None = None) -> ProfileReport:
    """The profile of `solution_path` (None: of the reference itself). `known` may carry what a
    check already measured ({"resources": ..., "median_ms": ...}) so it is not measured again."""
    opts = opts or ProfileOptions()
    known = known or {}
    began = time.monotonic()
    problem = load_problem(problem_path)
    solution = load_solution(solution_path) if solution_path is not None else None
    device = resolve_device(opts.device)
    ncu = find_ncu() if device.startswith("cuda") else None
    available = tier_availability(device, ncu)
    order = plan_tiers(available, opts.tier)
    missing: list[str] = []
    if opts.tier is None:
        missing += [f"tier {t} unavailable: {why}" for t, why in available.items() if why]
    workdir = Path(tempfile.mkdtemp(prefix="kw-profile-"))
    if opts.keep_workdir:
        opts.say(f"sandbox files kept in {workdir}")

    def left() -> float:
        spent = time.monotonic() - began
        return opts.timeout_s if opts.budget_s is None else max(0.0, min(opts.timeout_s, opts.budget_s - spent))

    try:
        opts.say("roofline: the reference's bytes and flops")
        cost = problem_cost(problem.path, device, workdir / "cost", left() or 1.0, opts.home)
        if not cost.get("ok") and cost.get("error"):
            last = str(cost["error"]).strip().splitlines()[-1]
            raise InputError(f"problem file {problem.path}: the reference fails to run: {last}; fix the problem file")
        facts: dict[str, str] = dict(cost.get("device_facts") or {})
        ctx = Subject(ncu=ncu, problem_path=problem.path, solution_path=solution.path if solution else None,
                      source=solution.source if solution else "", device=device, workdir=workdir, facts=facts, known=known)
        tier: int | None = None
        result: TierResult = {}
        for t in order:
            budget = left()
            if t < 3 and budget < MIN_TIER_BUDGET_S and opts.tier is None:
                missing.append(f"tier {t} skipped: the profile's time budget is spent")
                continue
            opts.say(f"profile: tier {t} ({TIER_NAMES[t]})")
            result = run_tier(t, ctx, max(budget, 1.0))
            facts.update(result.get("device_facts") or {})
            if "failure" in result:
                missing.append(f"tier {t} failed: {result['failure']}")
                continue
            tier = t
            missing += result.get("missing", [])
            break
        metrics: TierMetrics = (result.get("metrics") or {}) if tier else {}
        peaks = resolve_peaks(device, facts, opts, workdir, missing) if cost.get("ok") else None
        if not cost.get("ok"):
            missing.append(f"roofline: {cost.get('failure') or 'the reference could not be measured'}")
        measured_ms, measured_by, busy_ms = _measured(tier, metrics, known)
        roof = roofline_report(cost, peaks, measured_ms, measured_by, busy_ms) if peaks and cost.get("ok") else None
        if tier == 3 and not measured_ms:
            missing.append("timing: the static tier runs no kernel")
    finally:
        if not opts.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    profile: ProfileReport = {
        "tier": tier,
        "tier_name": TIER_NAMES.get(tier) if tier else None,
        "subject": "solution" if solution else "reference",
        "problem": str(problem.path),
        "solution": str(solution.path) if solution else None,
        "device": device,
        "gpu": facts.get("gpu"),
        "metrics": metrics,
        "resources": result.get("resources") if tier == 3 else None,
        "roofline": roof,
        "cost": {k: cost.get(k) for k in ("bytes", "flops", "flops_by_op", "dtype", "counted_on")} if cost.get("ok") else None,
        "missing": missing,
        "versions": {**versions(), **{k: v for k, v in facts.items() if k in ("gpu", "sm", "cuda", "driver")}},
    }
    profile["diagnosis"] = diagnose(profile)
    profile["wall_s"] = time.monotonic() - began
    return profile
