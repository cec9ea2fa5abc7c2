"""Integrity suite, tampering with the process and the checker: precision flags and RNG state,
tensors dug out of gc or caller frames, monkeypatching, forged records, forbidden things reached
through allowed ones, the checker patched from inside the child, kernels honest only when
watched, and secrets that must never reach the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable

import integrity_checks
import pytest
from integrity_candidates import Candidate, candidate_param, candidates_of
from integrity_checks import assert_expected_verdict

from kernelwright.tools.check.verdicts import CheckResult

# The suite's fixtures, bound here: this file gets its own pool of checks and parent environment.
outcomes, parent_env = integrity_checks.outcomes, integrity_checks.parent_env

CANDIDATES = candidates_of("tampering")
# Extra facts a few of them must show (checked on the same result).
EXTRA_CHECKS: dict[str, Callable[[CheckResult], bool]] = {
    "softmax_rows/rng_generator_tamper": lambda r: any("RNG" in x.message for x in r.reasons),
    # The checked calls run in every grad mode, so the cheat's other branch is seen.
    "softmax_rows/honest_env_and_modes": lambda r: {t["grad_mode"] for t in r.trials if t["variant"] == "shipped"}
    == {"inference_mode", "no_grad", "enable_grad"},
}
assert set(EXTRA_CHECKS) <= {c.id for c in CANDIDATES}, "an extra check for a candidate another file runs"


@pytest.mark.parametrize("candidate", [candidate_param(c) for c in CANDIDATES])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    assert_expected_verdict(candidate, outcomes, EXTRA_CHECKS.get(candidate.id))
