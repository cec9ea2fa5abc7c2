"""What `profile_solution` returns (`profile --json`), and what each tier answers it."""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict

from kernelwright.tools.profile.metrics import TierMetrics
from kernelwright.tools.profile.sol import RooflineReport
from kernelwright.tools.worker.resources_protocol import KernelResources


class TierResult(TypedDict, total=False):
    """One tier's answer: its metrics (and what it could not measure), or why it failed."""

    metrics: TierMetrics
    resources: list[KernelResources] | None  # the static tier's compile
    missing: list[str]
    device_facts: dict[str, str]
    failure: str


class Known(TypedDict, total=False):
    """What a check already measured, so the profile does not measure it again."""

    resources: list[KernelResources] | None
    median_ms: float | None


class CostSummary(TypedDict):
    """The reference's cost as the profile reports it."""

    bytes: int | None
    flops: int | None
    flops_by_op: dict[str, int] | None
    dtype: str | None
    counted_on: str | None


class ProfileReport(TypedDict):
    """The profile of a solution (or of the reference), in the key order `profile --json` prints."""

    tier: int | None  # the tier that answered; None when none did
    tier_name: str | None
    subject: str  # solution | reference
    problem: str
    solution: str | None
    device: str
    gpu: str | None
    metrics: TierMetrics  # {} when no tier answered
    resources: list[KernelResources] | None
    roofline: RooflineReport | None
    cost: CostSummary | None
    missing: list[str]
    versions: dict[str, str]
    diagnosis: NotRequired[str]
    wall_s: NotRequired[float]
