"""What the candidate worker reports of the candidate's output and weights, as plain dicts
(TypedDicts) written through the signed event log's captured json: no validator in the
candidate's process. The parent reads them strictly as `events.OutputDescription` and
`events.WeightsEvent`.
"""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict


class OutputShape(TypedDict):
    """Exact type of what a forward returned; a tuple's or list's items, a tensor's shape, dtype
    and device (`candidate.output_description`)."""

    type: str
    items: NotRequired[list[OutputShape]]
    shape: NotRequired[list[int]]
    dtype: NotRequired[str]
    device: NotRequired[str]


class WeightAlignment(TypedDict):
    """How the reference's weights matched ModelNew's (`candidate.align_weights`)."""

    aligned: bool
    copied: bool
    matched: list[str]
    shape_mismatch: dict[str, list[list[int]]]  # name -> [Model's shape, ModelNew's shape]
    reference_only: list[str]
    candidate_only: list[str]
