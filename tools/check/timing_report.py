"""`check --json`'s "timing": what the GPU timing measured (`check.timing.time_solution`), or
why it stopped (`error` alone). Plain dicts (TypedDicts) in the key order the JSON prints them:
the graphs read them by key (`graphs/nodes.py`, `graphs/learning.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typing_extensions import TypedDict

if TYPE_CHECKING:
    from kernelwright.tools.worker.baselines import BaselineError
    from kernelwright.tools.worker.kernel_profile import StreamProfileJson
    from kernelwright.tools.worker.timing import StatsJson


class EagerTimings(TypedDict):
    """The reference eager, timed before and after the candidate (their gap is the noise floor)."""

    before: StatsJson
    after: StatsJson


class CheckTiming(TypedDict, total=False):
    """The candidate's, eager's and the torch.compile baselines' statistics, the speedups before
    the noise floor rounds them, and how the candidate was timed; or only `error`."""

    error: str  # the timing stopped: the candidate failed while timed, or the checker's timing did
    candidate: StatsJson
    eager: EagerTimings
    compile: StatsJson | BaselineError | None  # None: not selected (see baselines_skipped)
    compile_max_autotune: StatsJson | BaselineError | None
    baselines_skipped: dict[str, str]  # baseline -> why it was not timed
    baselines_cached: bool
    noise_floor: float  # relative gap of the two eager timings
    speedup_raw: dict[str, float]  # baseline -> its time / the candidate's
    within_noise: dict[str, bool]
    profile: StreamProfileJson  # a few profiled timed calls (`events.StreamProfile` as JSON)
    flush_bytes: int
    host_call_us: float  # the forward's own host time: hidden by the head start
    head_start_us: float
    pool_size: int
    warmup_calls: int
    checked_calls: list[int]
