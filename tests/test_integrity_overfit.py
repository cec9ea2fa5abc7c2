"""Integrity suite, fitting what was shipped: kernels hard-coded to the shipped shapes, sizes or
values that variants change (expressions, chained and tuple sizes, axes, factors), weights
snapshotted at construction or on the first call; with honest twins that read every value at run
time, weights under the reference's names or built like the reference, and a full-size
KernelBench file reduced for the CPU. Also compat mode's seeded construction of both models.
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

CANDIDATES = candidates_of("overfit")
# Extra facts a few of them must show (checked on the same result).
EXTRA_CHECKS: dict[str, Callable[[CheckResult], bool]] = {
    "softmax_rows/hardcoded_row_length": lambda r: all(t["ok"] for t in r.trials if t["variant"] == "shipped"),
    "layer_norm/hardcoded_dim": lambda r: all(t["ok"] for t in r.trials if t["variant"] == "shipped"),
    "linear_relu/honest_param_holder": lambda r: r.weights_aligned is True,
    "linear_relu/snapshot_weights_in_init": lambda r: r.reasons[0].check == "parameters" and "trial params-0" in r.reasons[0].message,
    "linear_relu/weights_cached_first_call": lambda r: r.reasons[0].check == "parameters",
    "layer_norm/affine_folded_at_init": lambda r: r.reasons[0].check == "parameters",
    "kb_channel_scale/hardwired_channels": lambda r: "variant2" in r.reasons[0].message and "'channels': 4" in r.reasons[0].message,
    "kb_channel_scale/hardwired_factor": lambda r: "variant2" in r.reasons[0].message and "'factor': 0.375" in r.reasons[0].message,
    "kb_channel_scale/hardwired_chained_plane": lambda r: "'height = width': 9" in r.reasons[0].message,
    "kb_square_matmul/hardwired_expression_size": lambda r: "variant1" in r.reasons[0].message and "'N': 79" in r.reasons[0].message,
    "kb_mean_dim/hardwired_axis": lambda r: "'get_init_inputs()[0]': 2" in r.reasons[0].message,
    "linear_relu/honest_renamed_linear": lambda r: r.weights_aligned is False and any(
        "weights not aligned by name" in n and "proj.weight" in n and "same seed as Model" in n for n in r.notes),
    "kb_square_matmul_full/honest_masked_tiles": lambda r: r.sizes == {"N": 256} and "automatically" in r.notes[0]
    and "--sizes full" in r.notes[0] and next(v for v in r.variants if v["name"] == "variant1")["constants"]["N"] in (129, 131, 133, 135),
    "kb_channel_scale/honest_runtime_values": lambda r: {v["name"] for v in r.variants if "skipped" not in v} == {"shipped", "variant1", "variant2"},
}
assert set(EXTRA_CHECKS) <= {c.id for c in CANDIDATES}, "an extra check for a candidate another file runs"


@pytest.mark.parametrize("candidate", [candidate_param(c) for c in CANDIDATES])
def test_candidate_gets_expected_verdict(candidate: Candidate, outcomes):
    assert_expected_verdict(candidate, outcomes, EXTRA_CHECKS.get(candidate.id))


COMPAT_SEEDED = [
    Candidate("linear_relu/honest_param_holder+compat", BY_ID["linear_relu/honest_param_holder"].path, PROBLEMS / "linear_relu.py",
              ("wrong_output",), "torch.empty weights under the reference's names, compat mode", options=(("mode", "compat"),)),
    Candidate("linear_relu/honest_renamed_linear+compat", BY_ID["linear_relu/honest_renamed_linear"].path, PROBLEMS / "linear_relu.py",
              ("accepted",), "nn.Linear under another name, compat mode", options=(("mode", "compat"),)),
]


@pytest.mark.parametrize("candidate", [pytest.param(c, id=c.id) for c in COMPAT_SEEDED])
def test_compat_builds_both_models_under_one_seed_and_copies_nothing(candidate: Candidate, outcomes):
    """KernelBench's rule: Model and ModelNew built under the same seed, no weights copied. Weights
    that only a copy by name would fill (torch.empty) are wrong there, as in KernelBench's harness;
    the same construction under another name is right. Strict copies by name (both accepted)."""
    r = result_of(outcomes, candidate)
    assert r.verdict.value in candidate.expect, [x.message for x in r.reasons]
    if r.verdict is Verdict.WRONG_OUTPUT:
        assert any(x.check == "weights" and "compat mode" in x.message for x in r.reasons)
