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
    (DATA / "argmin_mid.py", "cols", 1),  # argmin over a middle dim from __init__, 300 long
    (DATA / "l1_rms_dim1.py", "cols", 1),  # L1 normalisation then RMS norm, both over dim 1 of 4-D
    (DATA / "group_norm.py", "rows", 1),  # a row per (sample, group) over channels x height x width
    (DATA / "instance_norm.py", "rows", 1),
    (DATA / "batch_norm.py", "elementwise", 1),  # eval(): running statistics, per-channel affine
    (DATA / "layer_norm_3d.py", "rows", 2),  # LayerNorm over 3 dims, then / the Frobenius norm of all
    (DATA / "scalar_input.py", "elementwise", 1),  # a Python float among the inputs
    (DATA / "tril_matmul.py", "matmul", 1),  # tril of a product: a position-masked epilogue
    (DATA / "einsum_4d.py", "matmul", 1),  # bijl,lk->bijk as one matmul
    (DATA / "hinge_triplet.py", "rows", 3),  # triplet margin loss + hinge: per-row stage, then means
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
