"""The expert policy's families beyond elementwise chains, last-dim rows and one matmul: reductions
over any dims, norms over several dims, scalar inputs, masked and 4-D matmuls, scans, pooling,
losses and multi-stage solutions. Each problem is compiled at its CPU sizes and must be accepted
by the real strict check (Triton interpreter); the main branch before these families refused
every one of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernelwright.agents.expert.solution import compile_problem
from kernelwright.tools.check.static_scan import scan_solution
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.problem import load_problem, sized_for_device

from paths import PROBLEMS, ROOT

DATA = ROOT / "tests" / "data" / "expert"

# (problem, family of the generated solution (of its last stage), stages: kernels run one after another)
FAMILIES = [
    (DATA / "reduce_mid.py", "cols", 1),  # sum/max/min/mean over dim 1 of a 3-D tensor
    (DATA / "l1_rms_dim1.py", "cols", 1),  # L1 normalisation then RMS norm, both over dim 1 of 4-D
    (DATA / "group_norm.py", "rows", 1),  # a row per (sample, group) over channels x height x width
    (DATA / "instance_norm.py", "rows", 1),
    (DATA / "batch_norm.py", "elementwise", 1),  # eval(): running statistics, per-channel affine
    (DATA / "layer_norm_3d.py", "rows", 2),  # LayerNorm over 3 dims, then / the Frobenius norm of all
    (DATA / "scalar_input.py", "elementwise", 1),  # a Python float among the inputs
    (DATA / "tril_matmul.py", "matmul", 1),  # tril of a product: a position-masked epilogue
    (DATA / "einsum_4d.py", "matmul", 1),  # bijl,lk->bijk as one matmul
    (PROBLEMS / "cumsum_reverse.py", "scan", 1),  # flip / cumsum / flip: a reverse scan
    (PROBLEMS / "cumprod_rows.py", "scan", 1),
    (PROBLEMS / "maxpool2d.py", "pool", 1),
    (PROBLEMS / "cross_entropy.py", "rows", 2),  # int64 targets: a per-row stage then a mean
    (PROBLEMS / "attention_fp32.py", "matmul", 3),  # matmul, softmax, matmul: three stages
]


@pytest.mark.parametrize("problem,family,stages", FAMILIES, ids=[p.stem for p, _, _ in FAMILIES])
def test_family_is_compiled_and_accepted(tmp_path, problem: Path, family: str, stages: int):
    sized = sized_for_device(load_problem(problem), "cpu")
    source, traced = compile_problem(problem, None, source=sized.file.source, device="cpu")
    assert traced.family == family
    assert max(1, len(traced.stages)) == stages
    assert not scan_solution(source)
    path = tmp_path / "solution.py"
    path.write_text(source)
    result = verify_solution(problem, path, CheckOptions(device="cpu", trials=2, static_resources=False))
    assert result.accepted, (result.verdict, [r.message for r in result.reasons], source)


def test_a_loss_setting_baked_into_the_kernel_is_caught_by_the_checker(tmp_path):
    """Known limit of the expert: TripletMarginLoss's margin (a submodule setting from __init__) is
    baked into the generated kernel without a run-time guard. The checker's value variant (margin
    1.0 -> 0.75) is what catches it: right at the shipped values, rejected as an overfit."""
    problem = DATA / "hinge_triplet.py"
    sized = sized_for_device(load_problem(problem), "cpu")
    source, traced = compile_problem(problem, None, source=sized.file.source, device="cpu")
    assert traced.family == "rows" and len(traced.stages) == 3
    path = tmp_path / "solution.py"
    path.write_text(source)
    result = verify_solution(problem, path, CheckOptions(device="cpu", trials=2, static_resources=False))
    assert all(t["ok"] for t in result.trials if t["variant"] == "shipped"), result.trials
    assert result.verdict.value == "shape_overfit" and "'get_init_inputs()[0]': 0.75" in result.reasons[0].message, result.reasons


def test_a_kernel_specialised_to_a_constructor_dim_refuses_other_dims_loudly(tmp_path):
    """argmin over the last dim that comes from __init__: a rows kernel, built for that dim (a
    middle dim is read at run time: tests/test_expert_runtime_dims.py). The checker's value variant
    changes it (-1 -> -2: a solution must honour its constructor), and the generated forward raises
    with what it was generated for instead of answering wrongly: a rejection that names the limit."""
    problem = DATA / "argmin_last.py"
    sized = sized_for_device(load_problem(problem), "cpu")
    source, traced = compile_problem(problem, None, source=sized.file.source, device="cpu")
    assert traced.family == "rows" and not scan_solution(source)
    path = tmp_path / "solution.py"
    path.write_text(source)
    result = verify_solution(problem, path, CheckOptions(device="cpu", trials=2, static_resources=False))
    assert all(t["ok"] for t in result.trials if t["variant"] == "shipped"), result.trials
    assert result.verdict.value == "shape_overfit" and "generated for self.dim=-1" in result.reasons[0].message, result.reasons
