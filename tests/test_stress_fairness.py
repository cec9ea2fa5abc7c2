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


def _layer_norm_fp32(model: torch.nn.Module, x: torch.Tensor, naive: bool) -> torch.Tensor:
    """LayerNorm over the last dimension in fp32, as a kernel computes it: two passes (mean, then the
    centred second moment), or the one-pass E[x^2] - E[x]^2 that cancels catastrophically."""
    mean = x.mean(-1, keepdim=True)
    var = (x * x).mean(-1, keepdim=True) - mean * mean if naive else ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + model.ln.eps) * model.ln.weight.detach() + model.ln.bias.detach()


def test_the_offset_trial_catches_naive_variance_on_every_draw_and_spares_the_two_pass_kernel():
    """The offset factor may not hinge on one draw of the inputs: naive variance passes at
    +4 x max|input| and fails from about +8, and the ladder's x4 steps once dropped to +4 whenever
    the honest error estimate at +16 landed just past the cut (about 1 draw in 40)."""
    model, get_inputs = _model("layer_norm")
    search = trials.StressSearch(model, trials.reference_forward, TOLERANCES, True)
    naive_least, honest_worst = float("inf"), 0.0
    for seed in range(40):
        torch.manual_seed(seed)
        stress = search.find(get_inputs(), "offset")
        assert stress.inputs is not None, stress.detail
        exact = trials.reference_forward(model, stress.inputs).double()
        x = stress.inputs[0]
        naive_least = min(naive_least, trials.error_share(_layer_norm_fp32(model, x, naive=True), exact, TOLERANCES, True))
        honest_worst = max(honest_worst, trials.error_share(_layer_norm_fp32(model, x, naive=False), exact, TOLERANCES, True))
    assert naive_least > 1.5, f"naive variance passed a granted offset trial ({naive_least:.2f} of the tolerance)"
    assert honest_worst < 1.0, f"a two-pass fp32 layer norm failed a granted offset trial ({honest_worst:.2f} of the tolerance)"
