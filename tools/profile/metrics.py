"""The metrics each profile tier reports (`profile --json`'s "metrics"), one record per tier:
Nsight Compute's (tier 1), the timeline's (tier 2), the compiler's (tier 3).

Plain dicts (TypedDicts) declared in the key order the JSON prints them; a key is absent where
the tier did not measure it (ncu's figures depend on the metrics this ncu collected).
"""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict


class NcuFigures(TypedDict, total=False):
    """ncu's figures by canonical key (`ncu_csv.METRIC_KEYS`), each launch-averaged; only those
    this run collected. Times in ns, sizes in bytes, throughputs in % of peak."""

    duration_ns: float
    dram_pct: float
    memory_pct: float
    l2_pct: float
    l2_sectors_pct: float
    l1_pct: float
    sm_pct: float
    tensor_pct: float
    achieved_occupancy_pct: float
    theoretical_occupancy_pct: float
    registers_per_thread: float
    shared_static_bytes: float
    shared_dynamic_bytes: float
    instructions: float
    local_load_instructions: float
    local_store_instructions: float
    warp_cycles_per_issue: float
    block_limit_registers: float
    block_limit_shared_mem: float
    block_limit_warps: float
    block_limit_blocks: float
    sm_frequency_hz: float
    dram_frequency_hz: float


class Stall(TypedDict):
    """A warp-stall reason in cycles per issued instruction (`ncu_csv.top_stalls`)."""

    reason: str | None  # ncu's metric name for it; None when a rule's text named none we know
    cycles_per_issue: float
    share_pct: float | None  # of all stall cycles
    text: NotRequired[str]  # the rule's words, when read from a rule
    source: str  # "ncu metric" | "ncu rule"


class NcuKernel(NcuFigures, total=False):
    """One kernel (by name) of the forward under ncu (`ncu_csv.summarize_launches`)."""

    name: str
    launches: int
    launches_per_call: float | None
    total_ms: float
    block: list[int]
    grid: list[int]
    local_memory_instructions: float | None  # local loads + stores (spills); None if not collected
    occupancy_limiter: str | None
    top_stalls: list[Stall]
    rules: list[str]  # ncu's OPT/WRN rules that fired
    share_pct: float | None  # of the forward's kernel time


class NcuMetrics(TypedDict, total=False):
    """Tier 1: the forward's kernels, and the figures of the one that takes the most time."""

    kernel_launches: int
    calls: int
    duration_ms: float | None  # per call
    kernels: list[NcuKernel]
    dominant_kernel: str
    dram_pct: float
    memory_pct: float
    l2_pct: float
    l2_sectors_pct: float
    l1_pct: float
    sm_pct: float
    tensor_pct: float
    achieved_occupancy_pct: float
    theoretical_occupancy_pct: float
    registers_per_thread: float
    shared_static_bytes: float
    shared_dynamic_bytes: float
    warp_cycles_per_issue: float
    local_memory_instructions: float | None
    occupancy_limiter: str | None
    top_stalls: list[Stall]
    instructions_per_call: float
    clock_control: str
    kernel_filter: str


class TimelineKernel(TypedDict):
    """One kernel (or copy, memset) across the profiled calls (`timeline.summarize_timeline`)."""

    name: str
    short_name: str
    kind: str  # kernel | gpu_memcpy | gpu_memset
    own: bool  # one of the solution's kernels
    launches_per_call: float | None
    mean_us: float
    share_pct: float | None
    streams: list[int]


class TimelineMetrics(TypedDict):
    """Tier 2: medians over the profiled calls."""

    calls: int
    event_ms: float | None
    event_ms_min: float | None
    kernel_ms: float
    busy_ms: float  # union of the GPU activities' intervals
    span_ms: float
    gap_ms: float
    launches_per_call: float | None
    copies_per_call: float | None
    own_launches_per_call: float
    streams: list[int]
    kernels: list[TimelineKernel]
    unattributed_activities: int
    warmup_calls: NotRequired[int | None]


class StaticKernel(TypedDict, total=False):
    """One kernel compiled for the target (`static.kernel_rows`), or its compile error."""

    kernel: str | None
    error: str | None
    registers_per_thread: int
    spills_bytes: int
    shared_bytes: int
    num_warps: int | None
    num_stages: int | None
    theoretical_occupancy_pct: float
    warps_per_sm: int
    occupancy_limiter: str | None
    ptx_mix: dict[str, int]  # instruction class (`static.MIX_KEYS`) -> count in the PTX


class StaticMetrics(TypedDict):
    """Tier 3: the compiler's view of the solution's kernels."""

    arch: str  # "sm_90"
    kernels: list[StaticKernel]
    own_launches_per_call: NotRequired[int | None]


TierMetrics = NcuMetrics | TimelineMetrics | StaticMetrics
