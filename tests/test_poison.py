"""Poison patterns drawn per call (issue 16, class 5): a candidate cannot learn one pattern and
behave honestly only when it sees it, and unwritten elements are still found exactly."""

from __future__ import annotations

import random

import pytest
import torch

from kernelwright.tools.check.compare import compare_values
from kernelwright.tools.check.poison import FIXED_BITS, PoisonPattern, poison_, poisoned_mask
from kernelwright.tools.check.verdicts import Verdict

FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
DTYPES = (*FLOATS, torch.int16, torch.int32, torch.int64)


def test_patterns_differ_from_call_to_call_and_from_the_old_fixed_one():
    rng = random.Random(7)
    patterns = [PoisonPattern.drawn(rng) for _ in range(50)]
    for dtype in DTYPES:
        values = {p.bits[dtype] for p in patterns}
        assert len(values) > 30, dtype  # bfloat16 has 126 NaN payloads to pick from
        assert FIXED_BITS[dtype] not in values, dtype


def test_both_float_kinds_occur_and_neither_is_what_arithmetic_makes():
    rng = random.Random(11)
    kinds = set()
    for finite in (False, True, None, None, None):
        pattern = PoisonPattern.drawn(rng, finite)
        t = torch.empty(8)
        poison_(t, pattern)
        is_nan = bool(torch.isnan(t).all())
        kinds.add(is_nan)
        if finite is not None:
            assert is_nan is not finite
        assert is_nan or bool((t.abs() > 1e38).all())  # finite ones are far beyond any reference
        for dtype in (torch.float16, torch.bfloat16):  # too few finite values: always a NaN
            h = torch.empty(8, dtype=dtype)
            poison_(h, pattern)
            assert bool(torch.isnan(h).all())
        canonical = torch.zeros(8) / torch.zeros(8)
        assert not bool(poisoned_mask(canonical, pattern).any())
    assert kinds == {True, False}


@pytest.mark.parametrize("dtype", DTYPES)
def test_unwritten_elements_are_found_with_the_calls_pattern(dtype):
    pattern = PoisonPattern.drawn(random.Random(3))
    fresh = torch.empty(64, dtype=dtype)
    poison_(fresh, pattern)
    ref = torch.ones(64, dtype=dtype)
    out = ref.clone()
    out[5:9] = fresh[5:9]
    c = compare_values(out, ref, poison=PoisonPattern.from_json(pattern.to_json()))  # as the parent gets it
    assert c.verdict is Verdict.UNWRITTEN_OUTPUT and "4 of 64" in c.message
    # With another call's pattern the same elements are just wrong, not "unwritten".
    other = compare_values(out, ref, poison=PoisonPattern.drawn(random.Random(4)))
    assert other.verdict is not Verdict.UNWRITTEN_OUTPUT


def test_a_result_without_a_pattern_is_judged_with_the_fixed_one():
    assert PoisonPattern.from_json(None) == PoisonPattern.fixed()
