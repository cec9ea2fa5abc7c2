"""What the parent and the reference worker say to each other: its request, its signed commands
(time eager, compare the candidate's outputs), its report (reference.result.json), its eager
timings and its comparisons.

The reference child runs the problem's code (the user's, not a candidate's): the worker builds
these records and writes their JSON; the parent reads the report and timings back through
`wire.from_child` (strict: a malformed one is the checker's failure, never a verdict).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypeAliasType

from kernelwright.tools.check.plan import Number, VariantPlan
from kernelwright.tools.check.scratch_budget import ScratchBudget
from kernelwright.tools.worker.events import OutputDescription, TimingStats
from kernelwright.tools.worker.wire import WireRecord


class ReferenceRequest(BaseModel):
    """The reference worker's request file (reference.request.json), written by the parent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    problem_path: str
    variants: list[VariantPlan]
    device: str
    precision: str | None
    mode: str
    shared_dir: str
    private_dir: str
    result_path: str
    serve: bool
    outputs: bool = True  # False: the run's outputs are cached; this child only times eager
    budget: ScratchBudget | None = None  # None: every trial runs, however large (see scratch_budget)
    # True: the worker keeps its outputs (on the device where they fit) and compares the
    # candidate's there, on `CompareCommand`s; False: it writes them to `private_dir` for the
    # parent (a run's reference cache holds them across candidates).
    compare_here: bool = False
    # Where the candidate's outputs arrive as sealed memory files (`output_share`); None: files only.
    share_path: str | None = None
    # The candidate's outputs go to memory, not disk (to this worker's inbox or the parent's): the
    # trial budget counts them there.
    candidate_shares: bool = False


class TimeEagerCommand(BaseModel):
    """Time the reference eager on the timing pool; with `outputs_dir`, also save its output for
    every pool slot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pool_seeds: list[int]
    outputs_dir: str | None
    result_path: str
    cmd: str = "time"


class CompareEntry(BaseModel):
    """One candidate output to compare: the file the candidate's worker wrote, the digest its
    signed log names, what its log says the forward returned, the poison of the call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case: str
    file: str
    digest: str  # BLAKE3 of the file as the candidate's worker wrote it ("" when `shared`)
    shared: bool = False  # handed over as a sealed memory file under the case id (`output_share`), not a file
    output: OutputDescription
    poison: dict[str, int] | None


class CompareCommand(BaseModel):
    """Compare the candidate's outputs with the held reference outputs, in order, stopping after
    the first that differs; then drop the held outputs (the candidate is timed next)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entries: list[CompareEntry]
    tolerances: dict[str, list[float]]  # dtype class -> [atol, rtol, kappa]
    result_path: str
    share_key: str = ""  # hex: the candidate's event-log key, which signs the outputs it handed over
    cmd: str = "compare"


class CaseComparison(WireRecord):
    """`compare.Comparison` of one case as the worker reports it; `rewritten`: why the file is not
    the one the candidate's worker signed (then nothing was compared)."""

    case: str
    verdict: str
    message: str = ""
    max_abs_err: float | None = None
    rel_err: float | None = None
    tolerance: dict[str, float] | None = None
    rewritten: str | None = None


class CompareAnswer(WireRecord):
    comparisons: list[CaseComparison]


class TensorSpec(WireRecord):
    """A tensor the reference produced or took: shape and dtype (`reference.describe_output`);
    a non-tensor output names its `type`, a non-tensor input its `value` (repr)."""

    shape: list[int] | None = None
    dtype: str | None = None
    type: str | None = None
    value: str | None = None


# A reference output: one tensor's description, or a list of them (nested as the output is).
OutputSpec = TypeAliasType("OutputSpec", "TensorSpec | list[OutputSpec]")


def spec_json(spec: OutputSpec) -> object:
    """A description as plain JSON, without the fields it does not have (what `profile.roofline`
    and the flops worker's report read)."""
    if isinstance(spec, TensorSpec):
        return spec.model_dump(exclude_none=True)
    return [spec_json(s) for s in spec]


class RecipeReport(WireRecord):
    """`candidate_protocol.InputRecipe` as the reference worker reports it."""

    seed: int
    perturb: str | None = None
    perturb_seed: int = 0
    degenerate_rows: bool = True
    stress: str | None = None
    stress_factor: float = 0.0
    fingerprint: str = ""


class CaseReport(WireRecord):
    id: str
    seed: int
    kind: str
    detail: str
    output: OutputSpec
    inputs: RecipeReport | None = None  # None: the inputs are in the shared folder's file
    seconds: float | None = None  # the trial's time in the reference worker (its stress search included)


class SkippedCase(WireRecord):
    id: str
    kind: str
    why: str


class VariantReport(WireRecord):
    """One variant the reference ran: its values, its trials, and what a stress or params trial skipped."""

    model_config = ConfigDict(populate_by_name=True)

    name: str
    kind: str
    constants: dict[str, Number]
    cases: list[CaseReport]
    skipped_cases: list[SkippedCase]
    transform: list[float] | None = None
    construction_seed: int = 42  # the plan's: the candidate's worker builds ModelNew under it too
    # The first trial's minimum traffic and flops (the speed of light's inputs).
    bytes: int | None = None
    flops: int | None = None
    input_spec: list[TensorSpec] = []
    fixed: dict[str, str] = {}  # value left at the shipped one -> the reference's error with it changed
    from_: dict[str, Number] = Field(default={}, alias="from")  # the shipped values the constants replace
    source: str = ""  # the problem at this variant's values (for the candidate's recipes)


class SkippedVariant(WireRecord):
    name: str
    kind: str
    error: str
    fixed: dict[str, str] = {}


class FailedAttempt(WireRecord):
    values: dict[str, Number]
    error: str


class ReferenceReport(WireRecord):
    """The reference worker's report: the variants it ran and skipped, the values the shipped one
    ran at, and either `ok` or why not (`error`: the problem's; `checker_error`: the checker's)."""

    variants: list[VariantReport] = []
    skipped_variants: list[SkippedVariant] = []
    shipped_values: dict[str, Number] = {}
    ok: bool = False
    error: str | None = None
    attempts: list[FailedAttempt] = []
    checker_error: str | None = None
    device_facts: dict[str, str] = {}


class EagerTiming(WireRecord):
    """One `TimeEagerCommand`'s answer."""

    stats: TimingStats
    warmup_calls: int
    flush_bytes: int
    saved_outputs: int | None = None


REPORT: TypeAdapter[ReferenceReport] = TypeAdapter(ReferenceReport)
EAGER_TIMING: TypeAdapter[EagerTiming] = TypeAdapter(EagerTiming)
COMPARE_ANSWER: TypeAdapter[CompareAnswer] = TypeAdapter(CompareAnswer)
