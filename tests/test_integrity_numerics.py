"""Integrity suite, the numbers themselves: precision downgrades in fp32 problems (TF32 dots, fp16
operands, accumulators and reductions), numerically fragile kernels caught by the stress trials,
and races that the in-order interpreter hid; with honest twins (tf32x3 dots, stable kernels,
split-K with atomics) and the user's TF32 opt-in.
"""

from __future__ import annotations

from collections.abc import Callable

import integrity_checks
import pytest
from integrity_candidates import BY_ID, Candidate, candidate_param, candidates_of
from integrity_checks import assert_expected_verdict, result_of

from kernelwright.tools.check.verdicts import CheckResult, Verdict

from paths import PROBLEMS

# The suite's fixtures, bound here: this file gets its own pool of checks and parent environment.
outcomes, parent_env = integrity_checks.outcomes, integrity_checks.parent_env

CANDIDATES = candidates_of("numerics")
# Extra facts a few of them must show (checked on the same result).
EXTRA_CHECKS: dict[str, Callable[[CheckResult], bool]] = {
    "softmax_rows/no_max_subtraction": lambda r: r.reasons[0].check == "stress" and "trial stress-up" in r.reasons[0].message,
    "logsumexp_rows/no_max_logsumexp": lambda r: r.reasons[0].check == "stress",
    "layer_norm/naive_variance": lambda r: r.reasons[0].check == "stress" and "trial stress-offset" in r.reasons[0].message,
    "layer_norm/shift_by_row_absmax": lambda r: r.reasons[0].check == "stress" and "alternate rows" in r.reasons[0].message,
    "l2_normalize_rows/eps_inside_sqrt": lambda r: r.reasons[0].check == "stress" and "trial stress-down" in r.reasons[0].message,
    "l2_normalize_rows/no_norm_clamp": lambda r: "trial perturb-ties" in r.reasons[0].message and "all zeros" in r.reasons[0].message,
    "l2_normalize_rows/rsqrt_of_mean_square": lambda r: "trial perturb-ties" in r.reasons[0].message,
    "layer_norm/variance_without_eps": lambda r: "trial perturb-ties" in r.reasons[0].message,
    "linear_relu/tf32_default_dot": lambda r: "TF32" in r.reasons[0].message,
    "softmax_rows/fp16_exp_sum": lambda r: "converts fp32 values to fp16" in r.reasons[0].message,
}
assert set(EXTRA_CHECKS) <= {c.id for c in CANDIDATES}, "an extra check for a candidate another file runs"


@pytest.mark.parametrize("candidate", [candidate_param(c) for c in CANDIDATES])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    assert_expected_verdict(candidate, outcomes, EXTRA_CHECKS.get(candidate.id))


TF32_OPT_IN = Candidate(
    "linear_relu/tf32_default_dot+precision_tf32",
    BY_ID["linear_relu/tf32_default_dot"].path,
    PROBLEMS / "linear_relu.py",
    ("accepted",),
    "a TF32 dot with the user's opt-in",
    options=(("precision", "tf32"),),
)


@pytest.mark.parametrize("candidate", [pytest.param(TF32_OPT_IN, id=TF32_OPT_IN.id)])
def test_tf32_is_accepted_only_when_the_user_opts_in_and_then_reported(candidate: Candidate, outcomes):
    """The same file is precision_downgrade by default (the parametrized test); with --precision
    tf32 it is accepted, judged with the 16-bit tolerance, and the opt-in is in the result."""
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert any("--precision tf32" in n for n in r.notes)
    assert r.tolerance["atol"] == pytest.approx(1e-2) and "--precision tf32" in r.tolerance["source"]
