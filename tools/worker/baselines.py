"""The baselines worker (`python -m kernelwright.tools.worker baselines REQUEST.json`): times the
torch.compile baselines of a problem, once per problem and toolchain, with the same loops as
every timed implementation (`timing.measure`)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from typing_extensions import (
    TypedDict,  # pydantic reads it (the parent's records): typing's before 3.12 it cannot
)

from kernelwright.tools.worker.common import DTYPES, as_list, load_module, seed_everything, write_json_atomic
from kernelwright.tools.worker.timing import StatsJson, input_pool, measure

COMPILE_MODES = {"compile": "default", "compile_max_autotune": "max-autotune-no-cudagraphs"}


def build_reference(module: Any, device: torch.device, dtype: torch.dtype | None) -> torch.nn.Module:
    """`Model` exactly as the reference worker builds it (seed 42 before the constructor
    arguments and before the constructor), from the problem file alone: nothing on disk that a
    candidate's process could have touched goes into a baseline."""
    seed_everything(42)
    init_inputs = as_list(module.get_init_inputs())
    seed_everything(42)
    model = module.Model(*init_inputs)
    return (model.to(device=device, dtype=dtype) if dtype else model.to(device)).eval()


@dataclasses.dataclass(frozen=True)
class BaselinesRequest:
    """The baselines child's request (`check.baselines.compiled_baselines` writes it)."""

    problem_path: str
    problem_source: str | None
    device: str
    precision: str | None
    pool_seeds: list[int]
    baselines: list[str]
    result_path: str


class BaselineError(TypedDict):
    error: str


def main(request_text: str) -> int:
    """Time the torch.compile baselines named in the request, one after the other in this
    process; the result file is rewritten after each, so one that crashes keeps the others."""
    req = BaselinesRequest(**json.loads(request_text))
    device = torch.device(req.device)
    torch.cuda.set_device(device)
    dtype = DTYPES.get(req.precision or "")
    module = load_module("kw_problem", req.problem_path, req.problem_source)
    results: dict[str, StatsJson | BaselineError] = {}
    out = Path(req.result_path)
    with torch.inference_mode():
        pool = input_pool(module, device, dtype, req.pool_seeds)
        for name in req.baselines:
            results[name] = {"error": "the worker died while compiling or timing it"}
            write_json_atomic(out, results)
            try:
                torch._dynamo.reset()
                model = torch.compile(build_reference(module, device, dtype), mode=COMPILE_MODES[name])
                measured = measure(model, pool, device, compat=False)
                results[name] = measured.stats
                del model, measured
            except Exception as exc:  # noqa: BLE001 - a baseline that fails to compile is reported, not fatal
                lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()] or [type(exc).__name__]
                results[name] = {"error": f"{type(exc).__name__}: {lines[-1][:300]}"}
            write_json_atomic(out, results)
    return 0
