"""The verdicts a candidate can get, and the one record that carries a check's result.

Verdict names are part of the public contract (CLI JSON, traces, memory): keep them stable.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypedDict, cast

if TYPE_CHECKING:
    from kernelwright.tools.check.timing_report import CheckTiming
    from kernelwright.tools.check.tolerance import ToleranceUsed
    from kernelwright.tools.profile.sol import CheckRoofline
    from kernelwright.tools.sandbox.isolation import IsolationReport
    from kernelwright.tools.worker.resources_protocol import KernelResources


class Verdict(str, enum.Enum):
    ACCEPTED = "accepted"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    CRASH = "crash"
    WRONG_OUTPUT = "wrong_output"
    SHAPE_MISMATCH = "shape_mismatch"
    DTYPE_MISMATCH = "dtype_mismatch"
    OUTPUT_TYPE = "output_type"
    UNWRITTEN_OUTPUT = "unwritten_output"
    INPUT_MUTATED = "input_mutated"
    NO_CUSTOM_KERNEL = "no_custom_kernel"
    TORCH_COMPUTE = "torch_compute"
    STATIC_VIOLATION = "static_violation"
    GLOBAL_STATE = "global_state"
    SHAPE_OVERFIT = "shape_overfit"
    TIMING_ESCAPE = "timing_escape"
    IMPOSSIBLE_SPEED = "impossible_speed"
    # An fp32 problem computed with TF32 dots, 16-bit operands or accumulators without --precision tf32.
    PRECISION_DOWNGRADE = "precision_downgrade"
    # Not a verdict on the kernel: it uses what Triton's CPU interpreter cannot run (check on a GPU).
    NEEDS_GPU = "needs_gpu"

    def __str__(self) -> str:  # so f-strings print the bare name
        return self.value


@dataclasses.dataclass(frozen=True)
class Reason:
    """One failed (or notable) check: which guard spoke, and what the user should know."""

    check: str
    message: str
    verdict: Verdict | None = None

    def to_dict(self) -> dict[str, str]:
        d = {"check": self.check, "message": self.message}
        if self.verdict is not None:
            d["verdict"] = self.verdict.value
        return d


class TrialResult(TypedDict):
    """One trial the candidate ran, as the result reports it (a dict in the CLI's JSON)."""

    case: str
    variant: str
    kind: str
    seed: int
    grad_mode: str | None
    ok: bool
    max_abs_err: float | None
    rel_err: float | None
    # Where the trial's time went: reference (its worker's trial), inputs, call and save (the
    # candidate's worker), compare. Informational: no verdict reads it.
    seconds: dict[str, float]


class VariantSummary(TypedDict, total=False):
    """One variant as the result reports it: what ran, at what values; or why it was skipped."""

    name: str
    kind: str
    constants: dict[str, int | float]
    cases: int
    fixed: dict[str, str]  # value left at the shipped one -> the reference's error with it changed
    description: str  # "N 512 -> 319, ..."
    skipped_cases: list[dict[str, str]]  # {id, kind, why}
    skipped: str  # the variant did not run: the reference's error


@dataclasses.dataclass
class CheckResult:
    """Everything `kernelwright check` reports. `to_dict` is the CLI's JSON."""

    verdict: Verdict
    reasons: list[Reason] = dataclasses.field(default_factory=list)
    trials: list[TrialResult] = dataclasses.field(default_factory=list)
    max_abs_err: float | None = None
    rel_err: float | None = None
    # The GPU timing's figures, or why it stopped (graphs read them as measurements).
    timing: CheckTiming | None = None
    speedup: dict[str, float] | None = None
    mode: str = "strict"
    device: str = "cpu"
    problem: str = ""
    solution: str = ""
    seeds: list[int] = dataclasses.field(default_factory=list)
    # The seed Model and ModelNew were built under (secret while the candidate ran): to rebuild
    # the weights of a trial by hand, seed with it before constructing Model.
    construction_seed: int | None = None
    variants: list[VariantSummary] = dataclasses.field(default_factory=list)
    weights_aligned: bool | None = None
    # What the verdict says beside it: the sizes reduced for the CPU, variants or trials not run
    # and why, values a variant left fixed, weights not copied, an opt-in precision.
    notes: list[str] = dataclasses.field(default_factory=list)
    sizes: dict[str, int | float] = dataclasses.field(default_factory=dict)  # knob -> value the shipped trials ran at ({} = the file's)
    tolerance: ToleranceUsed | None = None
    launches: dict[str, int] = dataclasses.field(default_factory=dict)
    resources: list[KernelResources] | None = None
    roofline: CheckRoofline | None = None
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    # With a run's reference cache: "hit", "miss", or "recomputed: <why the cached entry was dropped>".
    reference_cache: str | None = None
    # The sandbox the candidate ran in: the tool, the layers active and missing, the limits.
    isolation: IsolationReport | None = None
    # Wall seconds per stage (reference, candidate, timing:..., ...): where a check spends its time.
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    wall_s: float = 0.0

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.phases[name] = round(self.phases.get(name, 0.0) + time.monotonic() - began, 3)

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED

    def to_dict(self) -> CheckJson:
        d = cast(CheckJson, dataclasses.asdict(self))  # its fields, as JSON values
        d["verdict"] = self.verdict.value
        d["accepted"] = self.accepted
        d["reasons"] = [r.to_dict() for r in self.reasons]
        return d


class CheckJson(TypedDict):
    """`CheckResult.to_dict`: `check --json`'s object (the result's fields, the verdict by name,
    and `accepted`)."""

    verdict: str
    reasons: list[dict[str, str]]  # `Reason.to_dict`
    trials: list[TrialResult]
    max_abs_err: float | None
    rel_err: float | None
    timing: CheckTiming | None
    speedup: dict[str, float] | None
    mode: str
    device: str
    problem: str
    solution: str
    seeds: list[int]
    construction_seed: int | None
    variants: list[VariantSummary]
    weights_aligned: bool | None
    notes: list[str]
    sizes: dict[str, int | float]
    tolerance: ToleranceUsed | None
    launches: dict[str, int]
    resources: list[KernelResources] | None
    roofline: CheckRoofline | None
    versions: dict[str, str]
    reference_cache: str | None
    isolation: IsolationReport | None
    phases: dict[str, float]
    wall_s: float
    accepted: bool
