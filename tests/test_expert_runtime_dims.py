"""The expert policy reads a reduction's dim given to the constructor (`self.dim`) at run time: the
cols kernel's split is computed in forward from the attribute, so the solution built with another
dim (the checker's value variant: an axis 1 becomes 2) reduces over that dim with the same kernel.
Scalar parameters of activations (`F.elu(x, alpha=self.alpha)`) are kernel arguments. Where the
stage cannot follow the dim (a last-dim rows kernel, an operand broadcast for the traced dim) it
stays fixed and the forward refuses another value loudly.

The generated kernels run in one child process under Triton's interpreter: the interpreter needs
TRITON_INTERPRET set before triton.language is first imported, which another test of the session
(a check's parent side) may already have done without it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kernelwright.agents.expert.configs import Config
from kernelwright.agents.expert.solution import compile_problem
from kernelwright.tools.check.static_scan import scan_solution
from kernelwright.tools.check.verify import CheckOptions, verify_solution

SHAPE = (4, 6, 10)  # every dim of another size: a dim taken from the wrong place gives another shape

REDUCTIONS = {
    "sum": "torch.sum(x, dim=self.dim, keepdim={keep})",
    "mean": "x.mean(self.dim, keepdim={keep})",
    "max": "torch.max(x, dim=self.dim, keepdim={keep})[0]",
    "min": "torch.min(x, self.dim, keepdim={keep}).values",
    "argmax": "torch.argmax(x, dim=self.dim, keepdim={keep})",
    "argmin": "torch.argmin(x, dim=self.dim, keepdim={keep})",
}
EXACT = ("max", "min", "argmax", "argmin")
FIXED = {  # a dim the stage cannot follow: (forward, the dim it is traced at)
    "last_dim_rows_kernel": ("torch.sum(x, dim=self.dim)", -1),
    "operand_broadcast_for_the_traced_dim": ("torch.sum(x, dim=self.dim) + self.bias", 1),  # a [10] bias on [4, 10]
    "second_reduction_over_a_literal_dim": ("torch.sum(x, dim=self.dim).sum(dim=1)", 1),
}
ACTIVATIONS = {"elu": "F.elu(x, alpha=self.alpha)", "celu": "F.celu(x, alpha=self.alpha)",
               "leaky_relu": "F.leaky_relu(x, negative_slope=self.alpha)"}


def _problem(path: Path, arg: str, forward: str, shape=SHAPE, init_inputs: str = "[1]", extra: str = "pass") -> Path:
    """A KernelBench-style problem whose constructor keeps its one argument as `self.<arg>`."""
    path.write_text(textwrap.dedent(f"""\
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class Model(nn.Module):
            def __init__(self, {arg}):
                super().__init__()
                self.{arg} = {arg}
                {extra}

            def forward(self, x):
                return {forward}


        def get_inputs():
            return [torch.randn{tuple(shape)}]


        def get_init_inputs():
            return {init_inputs}
        """))
    return path


@dataclasses.dataclass
class Case:
    problem: Path
    shape: tuple[int, ...]
    traced_arg: float
    args: list[float]  # constructor arguments to run ModelNew and Model with
    config: Config | None = None


# Runs in the child: for each case and argument, ModelNew(arg) against Model(arg) (weights copied)
# on one input, and against Model(traced argument) (a kernel that ignored the argument would match it).
RUNNER = """
import json, sys, torch
out = {}
for name, case in json.loads(sys.stdin.read()).items():
    solution, reference = {}, {}
    exec(compile(open(case["solution"]).read(), "solution.py", "exec"), solution)
    exec(compile(open(case["problem"]).read(), "problem.py", "exec"), reference)
    torch.manual_seed(0)
    x = torch.randn(case["shape"])
    traced = reference["Model"](case["traced_arg"])(x)
    rows = []
    for arg in case["args"]:
        model = reference["Model"](arg)
        new = solution["ModelNew"](arg)
        new.load_state_dict(model.state_dict())
        try:
            got = new(x)
        except Exception as exc:
            rows.append({"arg": arg, "error": type(exc).__name__ + ": " + str(exc)})
            continue
        try:
            want = model(x)
        except Exception as exc:  # the reference refuses what the solution answered
            rows.append({"arg": arg, "error": None, "reference_error": type(exc).__name__ + ": " + str(exc)})
            continue
        same = got.shape == want.shape and got.dtype == want.dtype
        as_traced = got.shape == traced.shape and torch.allclose(got.double(), traced.double())
        err = (got.double() - want.double()).abs().max().item() if same and got.numel() else 0.0
        rows.append({"arg": arg, "error": None, "shape": list(got.shape), "want_shape": list(want.shape),
                     "dtype_ok": got.dtype == want.dtype, "equal": bool(same and torch.equal(got, want)),
                     "max_err": err, "as_traced": bool(as_traced)})
    out[name] = rows
print(json.dumps(out))
"""


def _cases(root: Path) -> dict[str, Case]:
    cases = {}
    for op, text in REDUCTIONS.items():
        for keep in (True, False):
            # BLOCK 4 < every dim: the chunked loop (keepdim); the default config: the one-block path
            cases[f"{op}-{keep}"] = Case(_problem(root / f"{op}_{keep}.py", "dim", text.format(keep=keep)), SHAPE, 1,
                                         [0, 1, 2, -1, 3], Config(block=4, num_warps=1, block_q=4) if keep else None)
    cases["softmax"] = Case(_problem(root / "softmax.py", "dim", "torch.softmax(x, dim=self.dim)"), SHAPE, 1, [0, 2])
    for name, (forward, dim) in FIXED.items():
        problem = _problem(root / f"{name}.py", "dim", forward, init_inputs=f"[{dim}]",
                           extra="self.bias = nn.Parameter(torch.randn(10))")
        cases[name] = Case(problem, SHAPE, dim, [dim, dim - 1 if dim < 0 else dim + 1])
    for name, forward in ACTIVATIONS.items():
        cases[name] = Case(_problem(root / f"{name}.py", "alpha", forward, (8, 33), "[1.0]"), (8, 33), 1.0, [0.3])
    return cases


@dataclasses.dataclass
class Run:
    traced: object  # tracing.Traced
    source: str
    rows: list[dict]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("runtime_dims")
    cases, traced, sources = _cases(root), {}, {}
    for name, case in cases.items():
        sources[name], traced[name] = compile_problem(case.problem, case.config)
        (root / f"{name}_solution.py").write_text(sources[name])
    payload = {name: {"solution": str(root / f"{name}_solution.py"), "problem": str(c.problem), "shape": list(c.shape),
                      "traced_arg": c.traced_arg, "args": c.args} for name, c in cases.items()}
    proc = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=300, env={**os.environ, "TRITON_INTERPRET": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name: Run(traced[name], sources[name], rows[name]) for name in cases}


@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("op", list(REDUCTIONS))
def test_a_constructor_dim_is_read_at_run_time(runs, op: str, keep: bool):
    run = runs[f"{op}-{keep}"]
    assert run.traced.family == "cols" and run.traced.runtime_dim is not None and not run.traced.fixed
    assert not scan_solution(run.source)
    *valid, out_of_range = run.rows
    for row in valid:  # dims 0, 1, 2 and -1
        assert row["error"] is None and row["shape"] == row["want_shape"] and row["dtype_ok"], row
        assert row["equal"] if op in EXACT else row["max_err"] < 1e-4, row
        assert row["arg"] == 1 or not row["as_traced"], row  # another dim: another answer than at the traced one
    assert out_of_range["error"].startswith("IndexError: Dimension out of range"), out_of_range


def test_a_softmax_over_a_constructor_dim_follows_it(runs):
    """Two reductions (max, then the sum of exponentials) over the same attribute: one structure."""
    run = runs["softmax"]
    assert run.traced.runtime_dim is not None and not run.traced.fixed
    for row in run.rows:
        assert row["error"] is None and row["shape"] == row["want_shape"] and row["max_err"] < 1e-5, row
        assert not row["as_traced"], row


@pytest.mark.parametrize("name", list(FIXED))
def test_a_dim_the_stage_cannot_follow_stays_fixed_and_is_checked(runs, name: str):
    run, dim = runs[name], FIXED[name][1]
    assert run.traced.fixed == {"self.dim": dim}
    at_traced, other = run.rows
    assert at_traced["error"] is None and at_traced["shape"] == at_traced["want_shape"] and at_traced["max_err"] < 1e-4, at_traced
    assert other["error"] == f"NotImplementedError: kernelwright expert: this kernel was generated for self.dim={dim}", other


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_an_activation_parameter_is_a_kernel_argument(runs, name: str):
    run = runs[name]
    assert run.traced.family == "elementwise" and not run.traced.fixed and "self.alpha" in run.source
    (row,) = run.rows
    assert row["error"] is None and row["max_err"] < 1e-5 and not row["as_traced"], row


def test_the_strict_check_accepts_a_reduction_over_a_constructor_dim(tmp_path):
    """End to end: the checker's value variant builds the model with dim 2 (from `get_init_inputs`'s
    1); the solution generated at dim 1 must answer there too."""
    problem = _problem(tmp_path / "problem.py", "dim", "torch.max(x, dim=self.dim, keepdim=True).values", shape=(3, 40, 24))
    source, _ = compile_problem(problem)
    solution = tmp_path / "solution.py"
    solution.write_text(source)
    result = verify_solution(problem, solution, CheckOptions(device="cpu", trials=2, static_resources=False))
    assert result.accepted, (result.verdict, [r.message for r in result.reasons])
    values = next(v for v in result.variants if v["name"] == "variant2")
    assert values["constants"].get("get_init_inputs()[0]") == 2, values  # dim 1 -> 2
    variant2 = [t for t in result.trials if t["variant"] == "variant2"]
    assert variant2 and all(t["ok"] for t in variant2), result.trials
