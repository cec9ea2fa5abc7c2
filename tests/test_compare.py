"""The magnitude-aware tolerance, non-finite handling and the poison pattern."""

import torch

from kernelwright.tools.check.compare import compare_structure, compare_values
from kernelwright.tools.check.guards import poison_, poisoned_mask
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.worker.events import OutputDescription


def test_small_outputs_get_a_tight_absolute_tolerance():
    # max|ref| = 1e-3, so atol_eff = min(1e-4, 1e-3 * 1e-3) = 1e-6: zeros do not pass.
    ref = torch.full((100,), 1e-3)
    assert compare_values(torch.zeros(100), ref).verdict is Verdict.WRONG_OUTPUT
    # With a reference of 5e-5, KernelBench's plain allclose(atol=1e-4) lets zeros pass; strict does not.
    tiny = torch.full((100,), 5e-5)
    assert compare_values(torch.zeros(100), tiny, mode="compat").verdict is Verdict.ACCEPTED
    assert compare_values(torch.zeros(100), tiny, mode="strict").verdict is Verdict.WRONG_OUTPUT


def test_within_tolerance_is_accepted_and_errors_are_reported():
    ref = torch.randn(1000)
    c = compare_values(ref + 1e-6, ref)
    assert c.verdict is Verdict.ACCEPTED
    assert 0 < c.max_abs_err < 2e-6 and 0 < c.rel_err < 1e-5


def test_bf16_uses_the_16_bit_tolerance():
    ref = torch.randn(1000).bfloat16()
    off = (ref.float() * (1 + 4e-3)).bfloat16()
    assert compare_values(off, ref).verdict is Verdict.ACCEPTED
    assert compare_values((ref.float() * 1.05).bfloat16(), ref).verdict is Verdict.WRONG_OUTPUT


def test_nan_must_match_the_reference_exactly():
    ref = torch.randn(10)
    ref[3] = float("nan")
    out = ref.clone()
    assert compare_values(out, ref).verdict is Verdict.ACCEPTED
    out[4] = float("nan")
    assert compare_values(out, ref).verdict is Verdict.WRONG_OUTPUT
    out = ref.clone()
    out[3] = 0.0
    assert compare_values(out, ref).verdict is Verdict.WRONG_OUTPUT


def test_poisoned_elements_are_unwritten_output():
    for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.int32):
        t = torch.empty(64, dtype=dtype)
        poison_(t)
        assert bool(poisoned_mask(t).all()), dtype
        ref = torch.ones(64, dtype=dtype)
        out = ref.clone()
        out[10:20] = t[10:20]
        c = compare_values(out, ref)
        assert c.verdict is Verdict.UNWRITTEN_OUTPUT and "10 of 64" in c.message, dtype


def test_computed_nan_is_not_mistaken_for_unwritten():
    nan = torch.zeros(4) / torch.zeros(4)
    assert not bool(poisoned_mask(nan).any())


def test_structure_checks():
    ref = torch.zeros(2, 3)
    desc = OutputDescription(type="torch.Tensor", shape=[2, 3], dtype="float32", device="cpu")
    assert compare_structure(desc, ref, "cpu") is None
    assert compare_structure(desc.model_copy(update={"type": "my.Sub"}), ref, "cpu").verdict is Verdict.OUTPUT_TYPE
    assert compare_structure(desc.model_copy(update={"shape": [3, 2]}), ref, "cpu").verdict is Verdict.SHAPE_MISMATCH
    assert compare_structure(desc.model_copy(update={"dtype": "float64"}), ref, "cpu").verdict is Verdict.DTYPE_MISMATCH
    assert compare_structure(OutputDescription(type="list", items=[desc]), ref, "cpu").verdict is Verdict.OUTPUT_TYPE
    assert compare_structure(OutputDescription(type="tuple", items=[desc, desc]), (ref, ref), "cpu") is None
