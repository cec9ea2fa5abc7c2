"""Integrity suite, where the work happens: a background thread, a side stream, a try/except that
falls back to torch, a kernel that only copies while torch (or numpy) computes, no kernel at all,
`ModelNew(Model)`, work hidden in launch machinery (grid callables, hooks, heuristics), host
compute in Python, and arithmetic passed off as a view; with honest twins (several kernels with
torch.empty scratch, launch hooks that do not compute, real views and layout ops).
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

CANDIDATES = candidates_of("compute")
# Extra facts a few of them must show (checked on the same result).
EXTRA_CHECKS: dict[str, Callable[[CheckResult], bool]] = {
    "layer_norm/honest_stats_then_normalize": lambda r: r.weights_aligned is True,
    "layer_norm/host_statistics_from_kernel": lambda r: any(x.check == "host_compute" for x in r.reasons),
    "gelu_scale/grid_callable_computes": lambda r: any("aten.gelu" in x.message for x in r.reasons),
}
assert set(EXTRA_CHECKS) <= {c.id for c in CANDIDATES}, "an extra check for a candidate another file runs"


@pytest.mark.parametrize("candidate", [candidate_param(c) for c in CANDIDATES])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    assert_expected_verdict(candidate, outcomes, EXTRA_CHECKS.get(candidate.id))
