"""The problem suite (examples/problems/): every problem loads, declares CPU_SIZES, runs its
reference on the CPU at those sizes, and has realistic GPU sizes that still time quickly.

The problems' code runs in one child process (problem files are user code; one torch import for
all of them keeps this test at a few seconds).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kernelwright.tools.problem import cpu_sizes, load_problem, sized_for_device

from paths import PROBLEMS

# Runs in the child: each problem at its GPU sizes on the meta device (shapes and bytes only,
# nothing computed), then at its CPU sizes for real.
CHILD = r"""
import json, sys, time
from pathlib import Path
import torch
from kernelwright.tools.problem import load_problem, sized_for_device

def nbytes(x):
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, (list, tuple)):
        return sum(nbytes(v) for v in x)
    return 0

def dtypes(x):
    if isinstance(x, torch.Tensor):
        return [str(x.dtype).removeprefix("torch.")]
    if isinstance(x, (list, tuple)):
        return [d for v in x for d in dtypes(v)]
    return []

def finite(x):
    if isinstance(x, torch.Tensor):
        return bool(torch.isfinite(x).all()) if x.is_floating_point() else True
    return all(finite(v) for v in x)

def build(problem, device):
    ns = {"__name__": "kw_suite_" + problem.name, "__file__": str(problem.path)}
    exec(compile(problem.file.source, str(problem.path), "exec"), ns)
    torch.manual_seed(0)
    with torch.device(device):
        model = ns["Model"](*ns["get_init_inputs"]()).eval()
        inputs = list(ns["get_inputs"]())
    return model, inputs

rows = []
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    row = {"name": path.stem}
    try:
        problem = load_problem(path)
        model, inputs = build(problem, "meta")
        with torch.inference_mode():
            out = model(*inputs)
        params = list(model.parameters()) + list(model.buffers())
        row["gpu_bytes"] = nbytes(inputs) + nbytes(params) + nbytes(out)
        row["dtypes"] = sorted(set(dtypes(inputs) + dtypes(params)))
        small = sized_for_device(problem, "cpu")
        began = time.monotonic()
        model, inputs = build(small, "cpu")
        with torch.inference_mode():
            out = model(*inputs)
        row["cpu_s"] = time.monotonic() - began
        row["cpu_bytes"] = nbytes(inputs) + nbytes(out)
        row["finite"] = finite(out)
        row["out_dtypes"] = dtypes(out)
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"
    rows.append(row)
print(json.dumps(rows))
"""


@pytest.fixture(scope="module")
def suite() -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(PROBLEMS)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {row["name"]: row for row in json.loads(proc.stdout)}


def test_suite_is_large_and_every_reference_runs_at_cpu_size(suite):
    assert len(suite) >= 40
    failed = {name: row["error"] for name, row in suite.items() if "error" in row}
    assert not failed, failed
    assert all(row["finite"] for row in suite.values()), [n for n, r in suite.items() if not r["finite"]]
    # Small enough for Triton's interpreter: each reference call is quick and its tensors tiny.
    slow = {n: round(r["cpu_s"], 2) for n, r in suite.items() if r["cpu_s"] > 2.0}
    assert not slow, slow
    big = {n: r["cpu_bytes"] for n, r in suite.items() if r["cpu_bytes"] > 2 * 2**20}
    assert not big, big


def test_gpu_sizes_are_realistic_and_quick_to_time(suite):
    # At least 8 MiB moved (beyond the L2 cache, so a kernel is measured, not a launch), at most
    # 1 GiB (each timed call stays in the milliseconds and a check's inputs fit on disk quickly).
    out_of_range = {n: r["gpu_bytes"] for n, r in suite.items() if not 8 * 2**20 <= r["gpu_bytes"] <= 2**30}
    assert not out_of_range, out_of_range


def test_suite_covers_fp32_and_bf16():
    # dtypes from the child are checked by the test above; here the plain count per precision.
    bf16 = [p.stem for p in PROBLEMS.glob("*.py") if "bfloat16" in p.read_text()]
    fp32 = [p.stem for p in PROBLEMS.glob("*.py") if "bfloat16" not in p.read_text()]
    assert len(bf16) >= 12 and len(fp32) >= 20, (bf16, fp32)


def test_every_problem_declares_cpu_sizes_that_shrink_it():
    for path in sorted(PROBLEMS.glob("*.py")):
        problem = load_problem(path)
        sizes = cpu_sizes(problem.file.tree, problem.path, problem.constants)
        assert sizes, f"{path.name} has no CPU_SIZES"
        assert all(sizes[k] <= problem.constants[k] for k in sizes), path.name
        small = sized_for_device(problem, "cpu")
        assert small.resized == sizes and small.constants == {**problem.constants, **sizes}
        assert sized_for_device(problem, "cuda:0") is problem
