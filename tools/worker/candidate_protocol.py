"""What the parent tells the candidate worker: its request file and its signed commands.

Frozen dataclasses, not pydantic: the candidate worker reads its commands in the process where the
candidate's code runs, and keeps what that code could patch (a third-party validator imported
there) out of the way; JSON through the json functions `signed` captured before it loads. The
parent writes these (trusted); a missing or unknown field stops the worker (TypeError).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

from kernelwright.tools.worker.signed import _dumps, _loads

Number = int | float


@dataclasses.dataclass(frozen=True)
class InputRecipe:
    """How one trial's inputs are made (`input_recipe.make_inputs`): get_inputs() under `seed` on
    the device, then `trials.perturb` (with `perturb_seed`) or `trials.stress_inputs` (by
    `stress_factor`); the reference's `fingerprint` of the result."""

    seed: int
    perturb: str | None = None
    perturb_seed: int = 0
    degenerate_rows: bool = True
    stress: str | None = None
    stress_factor: float = 0.0
    fingerprint: str = ""


@dataclasses.dataclass(frozen=True)
class CandidateCase:
    """One trial as the candidate worker runs it: its inputs made from `inputs`, or read from the
    file the reference saved when that is None."""

    id: str
    seed: int
    kind: str = "plain"
    output_nbytes: int = 0  # the reference's output size: the poisoned allocator's span
    inputs: InputRecipe | None = None

    @classmethod
    def decoded(cls, data: Any) -> CandidateCase:
        fields = dict(data)
        recipe = fields.pop("inputs", None)
        return cls(**fields, inputs=InputRecipe(**recipe) if recipe else None)


@dataclasses.dataclass(frozen=True)
class CandidateVariant:
    name: str
    kind: str
    transform: tuple[float, float] | None
    constants: dict[str, Number]
    cases: tuple[CandidateCase, ...]
    problem_source: str = ""  # the problem at this variant's values (the recipes' get_inputs)
    construction_seed: int = 42  # the secret seed Model was built under: ModelNew is built under it too

    @classmethod
    def decoded(cls, data: Any) -> CandidateVariant:
        """From the decoded JSON of `dataclasses.asdict` (json.loads' value: Any)."""
        fields = dict(data)
        cases = tuple(CandidateCase.decoded(c) for c in fields.pop("cases"))
        transform = fields.pop("transform")
        return cls(**fields, transform=tuple(transform) if transform else None, cases=cases)


@dataclasses.dataclass(frozen=True)
class CandidateRequest:
    """The candidate worker's request file (candidate.request.json)."""

    solution_path: str
    device: str
    precision: str | None
    mode: str
    shared_dir: str
    out_dir: str
    events_path: str
    problem_path: str = ""  # the problem file (its recipes' get_inputs runs in the worker)
    poison: bool = True
    serve: bool = False
    runtime_audit: bool = True  # off only in tests that prove the OS sandbox stops what the audit would
    # Stop after the first case whose forward computed with torch or on the host: that case decides
    # the verdict (torch_compute), the rest would only cost time (False with --allow-torch-ops).
    stop_on_torch_compute: bool = False
    # The reference worker's inbox for outputs as sealed memory files (`output_share`); "": files.
    share_path: str = ""
    # And its GPU tensors as exported device allocations (`device_share`): only where the reference
    # worker, which has the GPU, receives them (not the parent).
    share_device: bool = False
    # Written back once the cases are sent: the complete record of what it was asked (--keep-workdir).
    variants: tuple[CandidateVariant, ...] = ()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CandidateRequest:
        fields = _loads(text)
        variants = tuple(CandidateVariant.decoded(v) for v in fields.pop("variants", ()))
        return cls(**fields, variants=variants)


@dataclasses.dataclass(frozen=True)
class CheckCommand:
    """The first command: run every case of these variants under the guards."""

    variants: tuple[CandidateVariant, ...]
    cmd: Literal["check"] = "check"

    def to_json(self) -> str:
        return _dumps(dataclasses.asdict(self), sort_keys=True)


@dataclasses.dataclass(frozen=True)
class TimeCandidateCommand:
    """Once the parent accepted the outputs (on a GPU): time the candidate on the pool's inputs."""

    pool_seeds: tuple[int, ...]
    problem_path: str
    problem_source: str
    outputs_dir: str
    cmd: Literal["time"] = "time"

    def to_json(self) -> str:
        return _dumps(dataclasses.asdict(self), sort_keys=True)


def read_command(text: str) -> CheckCommand | TimeCandidateCommand:
    """A command's JSON text (verified by `signed.Commands`) as its record."""
    fields = _loads(text)
    cmd = fields.pop("cmd")
    if cmd == "check":
        return CheckCommand(variants=tuple(CandidateVariant.decoded(v) for v in fields.pop("variants")), **fields)
    if cmd == "time":
        return TimeCandidateCommand(**{**fields, "pool_seeds": tuple(fields["pool_seeds"])})
    raise TypeError(f"unknown command {cmd!r}")
