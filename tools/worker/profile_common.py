"""What the profiling children share: building the profiled module and its inputs, and writing
their answer. The subject is the candidate `ModelNew` (with the reference's weights where names
and shapes match, as the check does) or, with no solution, the reference `Model` itself. Inputs
come from the problem's `get_inputs()` at its shipped sizes, seeded, drawn on the device.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.check import guards
from kernelwright.tools.worker.common import (
    as_list,
    error_text,
    generate_inputs,
    load_module,
    seed_everything,
)
from kernelwright.tools.worker.profile_protocol import SubjectAnswer, SubjectRequest

INPUT_SEED = 1234


class StageFailed(Exception):
    """The subject failed while loading, constructing or running: `stage` says where."""

    def __init__(self, stage: str, exc: BaseException) -> None:
        super().__init__(f"{stage}: {type(exc).__name__}: {exc}")
        self.stage = stage
        self.text = error_text(exc, 2000)


def count_launches(solution_path: str | None) -> guards.LaunchCounter | None:
    """The check's launch counter (own kernels by source file, their launch signatures), installed."""
    if not solution_path:
        return None
    launches = guards.LaunchCounter(Path(solution_path))
    launches.install()
    if launches.interpreting:
        guards.InterpretedAutotune().install()
    guards.ExtensionCounter(launches).install()
    return launches


def build_subject(req: SubjectRequest) -> tuple[torch.nn.Module, list[Any]]:
    device = torch.device(req.device)
    try:
        problem = load_module("kw_problem", req.problem_path)
        init_inputs = as_list(problem.get_init_inputs())
        seed_everything(42)
        reference = problem.Model(*init_inputs)
    except Exception as exc:  # noqa: BLE001
        raise StageFailed("reference", exc) from exc
    model = reference
    if req.solution_path:
        try:
            solution = load_module("kw_solution", req.solution_path)
            seed_everything(42)
            model = solution.ModelNew(*init_inputs)
            own = model.state_dict()
            weights = {k: v for k, v in reference.state_dict().items() if k in own and own[k].shape == v.shape}
            model.load_state_dict(weights, strict=False)
        except Exception as exc:  # noqa: BLE001
            raise StageFailed("load", exc) from exc
    model = model.to(device).eval()
    seed_everything(INPUT_SEED)
    try:
        inputs = generate_inputs(problem, device)
    except Exception as exc:  # noqa: BLE001
        raise StageFailed("inputs", exc) from exc
    return model, inputs


def finish(req: SubjectRequest, result: SubjectAnswer, launches: guards.LaunchCounter | None, before: dict[str, int] | None = None) -> int:
    """Add the launch counts (minus `before`: warm-up and autotuning) and the device facts, write
    the answer where the parent looks for it; the exit status says whether the subject ran."""
    if launches:
        before = before or {}
        result["own_launches"] = {k: v - before.get(k, 0) for k, v in launches.own.items()}
        result["other_launches"] = dict(launches.other)
        result.setdefault("signatures", list(launches.signatures.values()))
    from kernelwright.tools.devices import gpu_facts

    result["device_facts"] = gpu_facts(req.device)
    Path(req.result_path).write_text(json.dumps(result, default=str))
    return 0 if result.get("ok") else 1
