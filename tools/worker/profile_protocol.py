"""What the parent and the profiling children say to each other: their requests (written by
`profile.roofline`, `profile.timeline`, `profile.static`, `profile.ncu`) and their answers.

The children run the problem's and the candidate's code, so, as for the candidate worker, no
validator they could patch is imported here: requests are frozen dataclasses (a missing or
unknown field stops the child: TypeError), answers plain dicts (TypedDicts) written with json.
The parent reads an answer back strictly (`profile.answers`).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Literal, TypeVar

from typing_extensions import TypeAliasType, TypedDict

from kernelwright.tools.worker.launch_signature import LaunchSignature

R = TypeVar("R")


class _Request:
    """A request the parent writes as the JSON of its fields."""

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self)))  # subclasses are dataclasses


def read_request(cls: type[R], path: str) -> R:
    """A request file as its record (the children's one way in)."""
    return cls(**json.loads(Path(path).read_text()))


@dataclasses.dataclass(frozen=True)
class PeaksRequest:
    """Written by `profile.roofline.device_peaks`, read by the peaks worker. It lives here, not beside
    the worker, so the judge's parent process never imports torch (about 1.4 s per CLI call)."""

    device: str
    result_path: str


@dataclasses.dataclass(frozen=True)
class FlopsRequest(_Request):
    problem_path: str
    device: str
    result_path: str


@dataclasses.dataclass(frozen=True)
class ProfileRunRequest(_Request):
    """`profile_run`: the profiled forward, under ncu (mode ncu) or torch.profiler (timeline)."""

    mode: Literal["ncu", "timeline"]
    problem_path: str
    solution_path: str | None
    device: str
    calls: int
    result_path: str


@dataclasses.dataclass(frozen=True)
class SignaturesRequest(_Request):
    """`profile_signatures`: one forward recording the solution's launch signatures."""

    problem_path: str
    solution_path: str
    device: str
    result_path: str


# What `profile_common.build_subject` and `finish` read of either request.
SubjectRequest = ProfileRunRequest | SignaturesRequest


@dataclasses.dataclass(frozen=True)
class NcuLaunchRequest(_Request):
    """`profile_ncu_launch`: exec ncu on `profile_run` with the target request."""

    ncu_argv: list[str]
    target_request: str


class DescribedTensor(TypedDict, total=False):
    """A tensor (shape, dtype) or a non-tensor (its type, or its value's repr), as
    `reference_protocol.spec_json` writes it."""

    shape: list[int]
    dtype: str
    type: str
    value: str


# One description, or a list of them (nested as the output is).
Described = TypeAliasType("Described", "DescribedTensor | list[Described]")


class FlopsAnswer(TypedDict, total=False):
    """The `flops` child's answer: `ok` with the reference's bytes and flops, else its `error`."""

    ok: bool
    error: str
    bytes: int
    input_bytes: int
    parameter_bytes: int
    output_bytes: int
    flops: int
    flops_by_op: dict[str, int]  # aten op -> flops (the largest few)
    inputs: list[Described]
    output: Described
    dtype: str  # the first output's torch dtype name
    counted_on: str  # "meta", or the device it had to run on
    device_facts: dict[str, str]


class TimelineEvent(TypedDict):
    """One event of torch.profiler's Chrome trace, as `profile_run.compact` keeps it: a GPU
    activity (kernel, copy, memset), a launch API call, or a `kw_call_<i>` range. Times in us."""

    cat: str
    name: str
    ts: float
    dur: float
    stream: int | None
    correlation: int | None


class SubjectAnswer(TypedDict, total=False):
    """What every profiling child answers (`profile_common.finish`): whether the subject ran (else
    the `stage` it failed in and the `error`), its launches and the GPU's facts."""

    ok: bool
    stage: str
    error: str
    own_launches: dict[str, int]
    other_launches: dict[str, int]
    signatures: list[LaunchSignature]
    device_facts: dict[str, str]


class ProfileRunAnswer(SubjectAnswer, total=False):
    mode: str
    calls: int
    warmup_calls: int
    event_ms: list[float]  # timeline: CUDA-event time of each call
    events: list[TimelineEvent]  # timeline


class SignaturesAnswer(SubjectAnswer, total=False):
    executed: bool  # False under the interpreter: the own kernels were recorded, not run
