"""A stress trial is tried on a candidate only where an honest kernel passes it: the fairness
search's estimate of an honest kernel's error must hold for kernels that accumulate in fp32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kernelwright.tools.problem import load_problem, sized_for_device
from kernelwright.tools.worker import trials

from paths import PROBLEMS

TOLERANCES = {"fp32": [1e-4, 1e-4, 1e-3], "16bit": [1e-2, 1e-2, 1e-2]}


def _model(name: str):
    sized = sized_for_device(load_problem(PROBLEMS / f"{name}.py"), "cpu")
    namespace: dict = {}
    exec(compile(sized.file.source, name, "exec"), namespace)  # noqa: S102 - our own example problem
    return namespace["Model"](*namespace["get_init_inputs"]()), namespace["get_inputs"]


def _scan_in_fp32_order(x: torch.Tensor) -> torch.Tensor:
    """The reverse prefix sum accumulated in fp32, one value after another: the roundings of an
    honest GPU scan (torch's CPU cumsum accumulates in float64)."""
    return torch.from_numpy(np.cumsum(x.flip(-1).numpy(), axis=-1, dtype=np.float32)).flip(-1)


@pytest.mark.parametrize("how", ["up", "down"])
def test_an_honest_fp32_scan_passes_every_scaled_trial_the_search_grants(how: str):
    model, get_inputs = _model("cumsum_reverse")
    granted, worst = 0, 0.0
    for seed in range(40):
        torch.manual_seed(seed)
        inputs = get_inputs()
        stress = trials.StressSearch(model, trials.reference_forward, TOLERANCES, True).find(inputs, how)
        if stress.inputs is None:
            continue
        granted += 1
        exact = trials.reference_forward(model, stress.inputs).double()
        worst = max(worst, trials.error_share(_scan_in_fp32_order(stress.inputs[0]), exact, TOLERANCES, True))
    assert worst < 1.0, f"an honest fp32 scan fails a granted stress-{how} trial ({worst:.2f} of the tolerance)"
    if how == "down":
        assert granted == 40  # scaling down keeps the scan inside the tolerance: the trial still runs
