"""Integrity suite, what comes back: the reference's freed output buffer, a partial write, results
cached by shape, pointer or content or memoised on sampled values, the result written into an
input, a tensor subclass, a wider dtype, a wrong shape or container, and a tolerance so loose that
zeros pass; with honest twins (views, scratch, scratch kept between calls). The candidates and the
machinery are shared (tests/integrity_candidates.py, tests/integrity_checks.py).
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

CANDIDATES = candidates_of("outputs")
# Extra facts a few of them must show (checked on the same result).
EXTRA_CHECKS: dict[str, Callable[[CheckResult], bool]] = {
    "gelu_scale/cache_by_shape": lambda r: r.trials[0]["ok"] and not r.trials[-1]["ok"] and r.trials[-1]["case"] == "shipped-1",
    "softmax_rows/cache_module_dict": lambda r: r.trials[0]["ok"] and r.trials[-1]["case"] == "shipped-1",
    # Each new trial names itself as what decided the verdict.
    "softmax_rows/memo_in_kernel": lambda r: r.reasons[0].check == "perturbation",
    # A problem with nothing of a kind to vary says so beside the verdict.
    "softmax_rows/honest_scratch_reuse": lambda r: any("variant2 (values) not run: nothing to vary" in n for n in r.notes),
}
assert set(EXTRA_CHECKS) <= {c.id for c in CANDIDATES}, "an extra check for a candidate another file runs"


@pytest.mark.parametrize("candidate", [candidate_param(c) for c in CANDIDATES])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    assert_expected_verdict(candidate, outcomes, EXTRA_CHECKS.get(candidate.id))


ZEROS_COMPAT = Candidate(
    "add_mul/zeros_trivial_kernel+compat",
    BY_ID["add_mul/zeros_trivial_kernel"].path,
    PROBLEMS / "add_mul.py",
    ("accepted",),
    "zeros under KernelBench's fixed atol",
    options=(("mode", "compat"),),
)


@pytest.mark.parametrize("candidate", [pytest.param(ZEROS_COMPAT, id=ZEROS_COMPAT.id)])
def test_strict_tolerance_is_what_rejects_zeros(candidate: Candidate, outcomes):
    """add_mul's outputs are below 1e-4: KernelBench's allclose(atol=1e-4) lets zeros through
    (compat mode reproduces that); the strict atol_eff = min(atol, 1e-3 * max|ref|) does not —
    the strict verdict on the same file is the parametrized test's wrong_output."""
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.tolerance["atol_eff"] == pytest.approx(1e-4)
    assert len(r.trials) == 5 and all(t["variant"] == "shipped" for t in r.trials)  # compat: 5 trials, no variants


# Memo cheats keyed on values read out with .item(): host compute is what rejects them first (the
# parametrized test). With torch ops allowed, the perturbation trials must still catch the memo.
MEMO_WITH_HOST_READS = [
    Candidate(f"{cid}+allow_torch_ops", BY_ID[cid].path, BY_ID[cid].problem, ("wrong_output",), BY_ID[cid].what,
              options=(("allow_torch_ops", True),))
    for cid in ("gelu_scale/memo_corner_values", "layer_norm/memo_row_checksum")
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in MEMO_WITH_HOST_READS])
def test_a_memo_is_caught_by_the_perturbation_trials_even_with_torch_ops_allowed(candidate: Candidate, outcomes):
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.WRONG_OUTPUT, r.reasons
    assert r.reasons[0].check == "perturbation" and "trial perturb-" in r.reasons[0].message, r.reasons
