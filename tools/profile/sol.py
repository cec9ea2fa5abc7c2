"""The roofline's records: the speed of light of a problem on a device, the reference's cost it
is computed from, and the two reports built on it (the check's, beside its timing; the
profile's, with the bound and the headroom).

Plain dicts (TypedDicts), declared in the key order the CLI's JSON prints them: `check --json`
and `profile --json` carry them as they are, and the graphs read them by key.
"""

from __future__ import annotations

from typing_extensions import TypedDict

from kernelwright.tools.profile.peaks import PeakFigures, PeaksUsed
from kernelwright.tools.worker.profile_protocol import FlopsAnswer


class SpeedOfLight(TypedDict):
    """`roofline.speed_of_light`: times in ms of the memory and the compute ceiling, the larger
    of them (t_sol_ms), which one binds, and the rates used."""

    bytes: int | None
    flops: int | None
    t_memory_ms: float
    t_compute_ms: float
    t_sol_ms: float
    bound: str  # memory | compute (the profile's report adds latency-or-launch)
    bandwidth_Bps: float
    peak_flops: float


class CheckRoofline(SpeedOfLight):
    """The check's roofline (`check.timing`): the candidate's median against the speed of light."""

    candidate_ms: float
    pct_of_sol: float | None
    peaks: PeakFigures


class RooflineReport(SpeedOfLight):
    """The profile's roofline (`roofline.roofline_report`)."""

    dtype: str  # fp32 | fp16 | bf16
    arithmetic_intensity: float | None  # flops per byte
    peaks: PeaksUsed
    measured_ms: float | None
    measured_by: str | None
    pct_of_sol: float | None
    headroom: float | None  # measured / SoL


class ProblemCost(FlopsAnswer, total=False):
    """`roofline.problem_cost`: the `flops` worker's answer (the reference's minimum bytes and
    flops at its shipped sizes), or why there is none."""

    failure: str  # the child timed out, crashed or wrote nothing
    cached: bool  # read from HOME/problem_costs.json
