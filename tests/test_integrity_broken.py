"""Integrity suite, broken solutions rather than cheats: a syntax error, a kernel that does not
compile, an exception in forward, a hang, a segfault, weights not under the reference's names, and
ignored parameters; and what the CPU interpreter lacked or got wrong (libdevice, bf16 dots), judged
on the kernel's own error, or left to a GPU (`needs_gpu`, never `compile_error`).
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

CANDIDATES = candidates_of("broken")
# Extra facts a few of them must show (checked on the same result).
EXTRA_CHECKS: dict[str, Callable[[CheckResult], bool]] = {
    "linear_relu/misnamed_weights": lambda r: r.weights_aligned is False and any(x.check == "weights" for x in r.reasons),
    # The signal by name (tests/test_check_cli.py's CLI run of this file, folded in here: the CLI
    # prints this same result; its exit code 1 for a rejection is tested there).
    "gelu_scale/stack_overflow_segfault": lambda r: "SIGSEGV" in r.reasons[0].message or "SIGBUS" in r.reasons[0].message,
}
assert set(EXTRA_CHECKS) <= {c.id for c in CANDIDATES}, "an extra check for a candidate another file runs"


@pytest.mark.parametrize("candidate", [candidate_param(c) for c in CANDIDATES])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    assert_expected_verdict(candidate, outcomes, EXTRA_CHECKS.get(candidate.id))
