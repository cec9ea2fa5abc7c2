"""GPU side of issue 16's class 12 and class 7: what the CPU check emulates or declines must hold on
a GPU. Run on the device machine: pytest -m gpu tests/test_gpu_interpreter_gaps.py.

On the CPU these candidates are checked through tools/worker/interpreter_fidelity.py (libdevice
mapped to numpy and torch, bf16 dots converted, TF32 operands rounded) or get `needs_gpu`; on a
GPU Triton compiles them, so the verdicts below are the GPU's own."""

import pytest

from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution

from paths import CANDIDATES, PROBLEMS

pytestmark = pytest.mark.gpu


def opts(tmp_path) -> CheckOptions:
    return CheckOptions(device="cuda", home=tmp_path, timing=False, compile_baselines=())


@pytest.mark.parametrize(
    "problem,candidate",
    [
        # Accepted on the CPU through the fidelity module: the GPU must agree.
        ("gelu_scale", "honest_libdevice_erf"),
        ("gelu_scale", "honest_libdevice_stub_tanh"),
        ("linear_gelu_bf16", "honest_bf16_dot"),
        ("linear_relu", "honest_tf32x3"),
        ("linear_relu", "honest_split_k_atomic"),
        # needs_gpu on the CPU (inline PTX, a libdevice function without a CPU version): both are
        # honest (an identity mov, a factor of i0(0) = 1), so a GPU accepts them.
        ("gelu_scale", "inline_asm_identity"),
        ("gelu_scale", "libdevice_no_cpu_equivalent"),
    ],
)
def test_what_the_cpu_emulates_or_declines_is_accepted_on_a_gpu(tmp_path, problem, candidate):
    r = verify_solution(PROBLEMS / f"{problem}.py", CANDIDATES / problem / f"{candidate}.py", opts(tmp_path))
    assert r.verdict is Verdict.ACCEPTED, [x.message for x in r.reasons]


@pytest.mark.parametrize(
    "problem,candidate,verdicts",
    [("gelu_scale", "libdevice_wrong_formula", {Verdict.WRONG_OUTPUT}), ("linear_gelu_bf16", "bf16_dot_no_bias", {Verdict.WRONG_OUTPUT}),
     # On a GPU the memo's .item() on the input is seen as host compute on the first call, before
     # any wrong output (the CPU interpreter's host reads are the interpreter's own).
     ("layer_norm", "memo_row_checksum", {Verdict.WRONG_OUTPUT, Verdict.TORCH_COMPUTE}),
     # The weights snapshotted in __init__ stay on the host when the model moves to the GPU: the
     # launch fails (seen on an H100) where the CPU computes with stale values.
     ("linear_relu", "snapshot_weights_in_init", {Verdict.WRONG_OUTPUT, Verdict.RUNTIME_ERROR})],
)
def test_wrong_kernels_are_wrong_on_a_gpu_too(tmp_path, problem, candidate, verdicts):
    r = verify_solution(PROBLEMS / f"{problem}.py", CANDIDATES / problem / f"{candidate}.py", opts(tmp_path))
    assert r.verdict in verdicts, [x.message for x in r.reasons]
