"""Integrity suite, the shipped example solutions: each is accepted with every kind of trial
(shipped, shape variant, perturbation, stress), weights aligned by name, and its kernels launched.
"""

from __future__ import annotations

import integrity_checks
import pytest
from integrity_candidates import Candidate
from integrity_checks import result_of

from kernelwright.tools.check.verdicts import Verdict

from paths import PROBLEMS, SOLUTIONS

# The suite's fixtures, bound here: this file gets its own pool of checks and parent environment.
outcomes, parent_env = integrity_checks.outcomes, integrity_checks.parent_env

EXAMPLES = [
    Candidate(f"examples/{p.stem}", SOLUTIONS / f"{p.stem}.py", p, ("accepted",), "the shipped honest Triton solution")
    # The suite's other problems have no shipped solution: they are what `kernelwright bench` is for.
    for p in sorted(PROBLEMS.glob("*.py")) if (SOLUTIONS / f"{p.stem}.py").is_file()
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in EXAMPLES])
def test_example_solution_is_accepted(candidate: Candidate, outcomes):
    r = result_of(outcomes, candidate)
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert {"shipped", "variant1"} <= {t["variant"] for t in r.trials}, "every example has a shape variant"
    assert {"perturb", "stress"} <= {t["kind"] for t in r.trials}, "and perturbation and stress trials"
    assert all(t["ok"] for t in r.trials) and len(r.trials) >= 8
    assert r.weights_aligned is True
    assert sum(r.launches.values()) >= 3
