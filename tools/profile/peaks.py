"""A device's ceilings as the roofline uses them: memory bandwidth and a matmul rate per dtype.

Measured by the `peaks` worker (and cached in the home's peaks.json) or taken from a datasheet
(`roofline.KNOWN_CARDS`). Plain dicts (TypedDicts): they go into JSON caches and reports as they are.
"""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict


class DevicePeaks(TypedDict):
    """What `roofline.device_peaks` (measured) or `roofline.datasheet_peaks` returns."""

    gpu: str
    bandwidth_Bps: float
    flops: dict[str, float]  # dtype class (fp32, tf32, bf16, fp16) -> FLOP/s
    source: NotRequired[str]  # "datasheet: ..." or "measured (...)"; a fresh measurement has none
    # Measured only (the `peaks` worker's answer).
    sm_count: NotRequired[int]
    l2_bytes: NotRequired[int | None]
    torch: NotRequired[str]


class PeakFigures(TypedDict):
    """The peaks a check's roofline names (no source: the check measures them or reads the cache)."""

    gpu: str
    bandwidth_Bps: float
    flops: dict[str, float]


class PeaksUsed(TypedDict):
    """The peaks a profile's roofline names, with where they came from."""

    gpu: str | None
    bandwidth_Bps: float | None
    flops: dict[str, float] | None
    source: str


class DatasheetCard(TypedDict):
    """One card of `roofline.KNOWN_CARDS`."""

    bandwidth_Bps: float
    flops: dict[str, float]
    source: str  # the datasheet the figures are from
