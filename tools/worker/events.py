"""The candidate worker's event log, as the parent reads it: one record per kind of event.

The worker (`candidate`, `candidate_timing`) writes each event as keyword arguments to the signed
`EventLog` (plain JSON through a json captured before the candidate's code loads: no pydantic in
that process). The parent verifies the signatures (`signed.read_event_bodies`) and then reads each
body into one of these records (`parse_events`); a body that fits none is a CheckerFailure, never
a verdict. The field names are the worker's keyword arguments: keep both sides in step.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from kernelwright.tools.worker.wire import WireRecord, from_child

# The verdicts an exception in the candidate's process can name (`candidate_errors.classify_exception`).
ErrorKind = Literal["compile_error", "runtime_error", "needs_gpu", "global_state", "static_violation"]
Scalar = int | float | bool | str | None


class OutputDescription(WireRecord):
    """What a forward returned: exact type; for a tuple or list its items, for a tensor its
    shape, dtype and device (`candidate.output_description`)."""

    type: str
    items: list[OutputDescription] | None = None
    shape: list[int] | None = None
    dtype: str | None = None
    device: str | None = None


class KernelArg(WireRecord):
    """One argument of a recorded launch (`launch_counting._describe_arg`)."""

    name: str
    kind: Literal["tensor", "constexpr", "dtype", "jit_function", "bool", "int", "float", "none", "other"]
    dtype: str | None = None
    value: Scalar = None
    repr: str | None = None
    line: int | None = None  # jit_function: the function's first line


class KernelSignature(WireRecord):
    """The first launch of one of the solution's kernels, as recorded under the interpreter: what
    the static compile (`tools.resources`) compiles it with."""

    kernel: str
    file: str
    args: list[KernelArg]
    num_warps: int = 4
    num_stages: int = 3
    line: int | None = None  # the launched function's first line (its code object's co_firstlineno)


class NumericsRecord(WireRecord):
    """The precision one interpreted kernel computed with (`interpreter_fidelity._note`)."""

    kernel: str
    op: Literal["dot", "downcast"]
    a: str
    b: str
    acc: str
    precision: str


class _Guarded(WireRecord):
    """What the guards saw around a step: global numerics state changed, threads started."""

    state_changes: list[str]
    new_threads: int


class StartEvent(WireRecord):
    event: Literal["start"]
    pid: int
    interpret: bool


class LoadedEvent(_Guarded):
    event: Literal["loaded"]


class ConstructedEvent(_Guarded):
    event: Literal["constructed"]
    variant: str
    init_compute: dict[str, int] = {}  # aten ops computing on parameters or buffers before the first call (`init_accounting`)
    init_launches: int = 0  # the solution's kernels launched before the first call (construction, weights, .to, .eval)


class WeightsEvent(WireRecord):
    """How the reference's weights matched ModelNew's (`candidate.align_weights`)."""

    event: Literal["weights"]
    variant: str
    aligned: bool
    copied: bool
    matched: list[str]
    shape_mismatch: dict[str, list[list[int]]]  # name -> [Model's shape, ModelNew's shape]
    reference_only: list[str]
    candidate_only: list[str]


class CallEvent(WireRecord):
    event: Literal["call"]
    case: str


class ErrorEvent(WireRecord):
    """The candidate raised: in a case, or while loading (`stage`), constructing or timing."""

    event: Literal["error"]
    kind: ErrorKind
    error: str
    case: str | None = None
    stage: Literal["load", "init", "timing"] | None = None
    variant: str | None = None


class ResultEvent(_Guarded):
    """One guarded call that returned: its output's description and what the guards counted."""

    event: Literal["result"]
    case: str
    output_digest: str
    output: OutputDescription
    own_launches: int
    compute_ops: dict[str, int]
    host_ops: dict[str, int]
    moved_bytes: int
    poison: dict[str, int] | None  # dtype name -> the poison's bits (`PoisonPattern.to_json`)
    grad_mode: str
    gpu_kernels: list[str] | None  # None on the CPU (no profiler witness)
    rng_changed: bool
    mutated_inputs: list[int]
    numerics: list[NumericsRecord]
    seconds: dict[str, float] = {}  # inputs, call, save: where the trial's time went in the candidate's worker
    shared: bool = False  # handed to the comparer as a sealed memory file (no file, no digest)
    on_device: int = 0  # of its tensors, those handed over as device allocations (`device_share`)


class DoneEvent(WireRecord):
    event: Literal["done"]
    own: dict[str, int]
    other: dict[str, int]
    signatures: list[KernelSignature]
    signatures_dropped: int = 0  # distinct specializations past guards.MAX_SIGNATURES


class RefusedEvent(WireRecord):
    """The runtime audit refused something the candidate did (the process then exits)."""

    event: Literal["refused"]
    audit_event: str
    message: str


class TimingStats(WireRecord):
    """Event-timed calls' statistics (`worker.timing.stats`)."""

    median_ms: float
    mean_ms: float
    iqr_ms: float
    min_ms: float
    n: int
    statistic: Literal["mean", "median"]
    value_ms: float


class StreamProfile(WireRecord):
    """A few profiled calls: streams used, kernel time against event time (`worker.kernel_profile.profile_streams`)."""

    calls: int
    kernels: int
    streams: list[int | None]
    timed_streams: list[int | None]
    kernel_ms: float
    event_ms: float
    names: list[str]
    kernel_names: list[str]


class TimingEvent(_Guarded):
    """The candidate's timed calls, in its checked process (`candidate_timing.time_candidate`)."""

    event: Literal["timing"]
    stats: TimingStats
    warmup_calls: int
    flush_bytes: int
    host_call_us: float
    head_start_us: float
    profile: StreamProfile
    saved_outputs: int
    saved_digests: dict[str, str]  # file name -> BLAKE3 of the bytes the worker wrote
    checked_calls: list[int]
    sampled_calls: int
    malformed_calls: list[int]
    timed_calls: int
    calls_without_own_launch: list[int]
    reused_outputs: list[int]
    own_launches: int
    compute_ops: dict[str, int]
    host_ops: dict[str, int]
    moved_bytes_per_call: int
    rng_changed: bool


class TimingFailedEvent(WireRecord):
    """The checker's own timing machinery failed in the candidate's process (not a verdict)."""

    event: Literal["timing_failed"]
    error: str


CandidateEvent = Annotated[
    StartEvent | LoadedEvent | ConstructedEvent | WeightsEvent | CallEvent | ErrorEvent | ResultEvent | DoneEvent
    | RefusedEvent | TimingEvent | TimingFailedEvent,
    Field(discriminator="event"),
]
_EVENTS: TypeAdapter[list[CandidateEvent]] = TypeAdapter(list[CandidateEvent])
FINAL_EVENTS = ("done", "error", "timing", "timing_failed")


def parse_events(bodies: list[str]) -> list[CandidateEvent]:
    """Verified event bodies (JSON text) as records, redacted; CheckerFailure if one does not fit."""
    try:
        data = [json.loads(body) for body in bodies]
    except ValueError as exc:
        from kernelwright.tools.problem import CheckerFailure

        raise CheckerFailure(f"the candidate's event log holds a signed line that is not JSON ({exc}; this is not a verdict)") from None
    return from_child(_EVENTS, data, "the candidate's event log")
