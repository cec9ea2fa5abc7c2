"""Per-problem tolerance overrides through a reviewed sidecar (NAME.tolerance.json).

The evaluation protocol allows them only that way: a sidecar widens atol/rtol of a dtype class (at most
10x), must say why, cannot touch kappa (zeros still fail), and every check names the file it used.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from kernelwright.cli import main
from kernelwright.tools.check.compare import compare_values
from kernelwright.tools.check.tolerance import DEFAULT, load_tolerances
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.problem import InputError

from paths import PROBLEMS, ROOT

PROBLEM = textwrap.dedent('''
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def forward(self, x):
            return x * 2.0


    n = 1000


    def get_inputs():
        return [torch.randn(n)]


    def get_init_inputs():
        return []
''')

# Off by 5e-4 relative everywhere: out of the fp32 default rtol (1e-4), inside a sidecar's rtol of 1e-3 at every
# input scale (a constant offset would be caught by the stress trial, which scales the inputs down).
SOLUTION = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import triton
    import triton.language as tl


    @triton.jit
    def scale_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        x = tl.load(x_ptr + offs, mask=mask)
        tl.store(y_ptr + offs, x * 2.001, mask=mask)


    class ModelNew(nn.Module):
        def forward(self, x):
            y = torch.empty_like(x)
            scale_kernel[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
            return y
''')

REASON = "test: the candidate is off by 5e-4 relative on purpose"


def _write(tmp_path, sidecar: object | None):
    problem, solution = tmp_path / "scale2.py", tmp_path / "scale2_solution.py"
    problem.write_text(PROBLEM)
    solution.write_text(SOLUTION)
    if sidecar is not None:
        (tmp_path / "scale2.tolerance.json").write_text(sidecar if isinstance(sidecar, str) else json.dumps(sidecar))
    return problem, solution


def _check(problem, solution, *extra):
    cmd = [sys.executable, "-m", "kernelwright", "check", str(problem), str(solution), "--device", "cpu", "--json", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_a_check_uses_the_sidecar_and_names_it(tmp_path, capsys):
    problem, solution = _write(tmp_path, {"fp32": {"rtol": 1e-3}, "reason": REASON})
    # `kernelwright check` in this process (kernelwright.cli.main, as the command calls it): a check
    # process pays ~7 s of CPU for its imports and sandbox zygotes; the exit-2 test below is a process.
    code = main(["check", str(problem), str(solution), "--device", "cpu", "--json", "--trials", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["verdict"] == "accepted"
    assert result["tolerance"]["source"] == "scale2.tolerance.json"
    assert result["tolerance"]["reason"] == REASON
    assert result["tolerance"]["rtol"] == 1e-3
    assert result["max_abs_err"] > 1e-4  # beyond what the defaults allow anywhere near |ref| ~ 1
    # The same outputs against the protocol's defaults are rejected: the sidecar is what let them in.
    ref = torch.randn(1000) * 2.0
    assert compare_values(ref * 1.0005, ref).verdict is Verdict.WRONG_OUTPUT


@pytest.mark.parametrize(
    "sidecar, words",
    [
        ({"fp32": {"atol": 1e-3}}, '"reason" is missing'),
        ({"fp32": {"atol": 2e-3}, "reason": "x"}, "outside [0.0001, 0.001]"),
        ({"16bit": {"atol": 0.005}, "reason": "x"}, "outside [0.01, 0.1]"),
        ({"fp32": {"kappa": 1.0}, "reason": "x"}, "kappa cannot be changed"),
        ({"fp64": {"atol": 1e-3}, "reason": "x"}, "unknown key(s) fp64"),
        ("{not json", "not readable JSON"),
    ],
)
def test_a_bad_sidecar_is_the_users_to_fix(tmp_path, sidecar, words):
    problem, _ = _write(tmp_path, sidecar)
    with pytest.raises(InputError) as err:
        load_tolerances(problem)
    message = str(err.value)
    assert str(tmp_path / "scale2.tolerance.json") in message and words in message
    assert "\n" not in message


def test_the_cli_stops_on_a_bad_sidecar_with_exit_2_before_running_anything(tmp_path):
    problem, solution = _write(tmp_path, {"fp32": {"atol": 1.0}, "reason": "too loose"})
    proc = _check(problem, solution)
    assert proc.returncode == 2
    error = json.loads(proc.stdout)["error"]  # --json: the error is the one JSON object
    assert "scale2.tolerance.json" in error and "outside [0.0001, 0.001]" in error
    assert "Traceback" not in proc.stderr


def test_a_sidecar_keeps_kappa_so_zeros_still_fail():
    loose = load_tolerances(PROBLEMS / "linear_residual_bf16.py")
    assert loose is not DEFAULT and loose.for_dtype(torch.bfloat16)[0] > DEFAULT.for_dtype(torch.bfloat16)[0]
    small = (torch.randn(4096) * 0.5).bfloat16()
    assert compare_values(torch.zeros_like(small), small, tolerances=loose).verdict is Verdict.WRONG_OUTPUT
    # One bf16 ulp of a cancelled intermediate in [2, 4) (2^-6) plus the sum's own rounding: the
    # case the linear_residual_bf16 sidecar exists for, rejected by the defaults.
    ref = torch.tensor([0.4375, 3.0, -2.5], dtype=torch.bfloat16)
    off = torch.tensor([0.4199, 3.0, -2.5], dtype=torch.bfloat16)
    assert compare_values(off, ref).verdict is Verdict.WRONG_OUTPUT
    assert compare_values(off, ref, tolerances=loose).verdict is Verdict.ACCEPTED


def test_the_suite_sidecars_are_valid_and_say_why():
    sidecars = sorted(PROBLEMS.glob("*.tolerance.json"))
    assert sidecars, "the suite ships linear_residual_bf16's sidecar"
    for path in sidecars:
        problem = path.with_name(path.name.removesuffix(".tolerance.json") + ".py")
        assert problem.is_file(), f"{path.name} has no problem file beside it"
        assert len(load_tolerances(problem).reason) > 80
