"""Trials sized to the disk and memory a check may use (KernelBench's full sizes: 6.4 GB a tensor).

The reference worker measures its first trial and keeps as many as fit, one of every kind before
a second of any; the check says which it dropped. Cheats that each of the kept kinds exists for
are still caught on the reduced set; a problem of which not two trials fit is refused before the
candidate runs. Budgets are set in bytes here; the CLI test measures a real small file system.
"""

from __future__ import annotations

import textwrap

import pytest

from kernelwright.tools.check.plan import plan_variants
from kernelwright.tools.check.scratch_budget import ScratchBudget, kept_trials, trials_that_fit
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.problem import CheckerFailure

N = 256
PROBLEM = textwrap.dedent(
    f"""
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def forward(self, x):
            return x * 2.0


    n = {N}


    def get_inputs():
        return [torch.randn(n, n)]


    def get_init_inputs():
        return []
    """
)
KERNEL = textwrap.dedent(
    """
    import torch
    import torch.nn as nn
    import triton
    import triton.language as tl


    @triton.jit
    def twice(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = offs < n
        tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=m) * 2.0, mask=m)


    def launch(x):
        y = torch.empty_like(x)
        twice[(triton.cdiv(x.numel(), 65536),)](x, y, x.numel(), BLOCK=65536)
        return y
    """
)
HONEST = KERNEL + textwrap.dedent(
    """

    class ModelNew(nn.Module):
        def forward(self, x):
            return launch(x.contiguous())
    """
)
# Each cheat is caught by one kind of trial only (the verdict names it): the budget must keep one
# of each kind.
CHEATS = {
    # the first call's answer for every later call: a secret trial (new inputs) catches it
    "first_answer_forever": (Verdict.WRONG_OUTPUT, KERNEL + textwrap.dedent(
        """

        class ModelNew(nn.Module):
            def forward(self, x):
                y = launch(x.contiguous())  # launched every call, so calls are not seen to skip the kernel
                if not hasattr(self, "first"):
                    self.first = y
                return self.first.clone()
        """
    )),
    # right only at the shipped shape: the shape variant catches it
    "shipped_shape_only": (Verdict.SHAPE_OVERFIT, KERNEL + textwrap.dedent(
        f"""

        class ModelNew(nn.Module):
            def forward(self, x):
                y = launch(x.contiguous())
                if x.shape[0] != {N}:
                    y.view(-1)[: y.numel() // 2].zero_()
                return y
        """
    )),
}


OUTPUT_BYTES = N * N * 4  # one fp32 output


def options(tmp_path, trials: float) -> CheckOptions:
    """Room for `trials` trials: the inputs are made again from their recipe in the candidate's
    process (no files), and each trial's two outputs stay in memory (the reference's in its
    worker, the candidate's sealed memory file handed to it: `output_share`), plus one being compared."""
    budget = ScratchBudget(folder=str(tmp_path), disk_bytes=2**40, memory_bytes=int(OUTPUT_BYTES * (1 + 2 * trials)))
    return CheckOptions(device="cpu", sizes="full", timing=False, static_resources=False, scratch_budget=budget,
                        home=tmp_path / "home")


def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(source)
    return path


def test_one_trial_of_every_kind_is_kept_before_a_second_of_any():
    variants = plan_variants([{}], seed=42, trials=5, variant_trials=2, strict=True, variants=True)
    kept = kept_trials(variants, 6)
    assert kept == {"shipped-0", "shipped-1", "perturb-elements", "params-0", "variant1-0", "variant2-0"}
    assert "params-0" not in kept_trials(variants, 6, has_parameters=False)
    assert kept_trials(variants, 100) == {c.id for v in variants for c in v.cases}


def test_trials_that_fit_counts_disk_and_the_parents_memory():
    budget = ScratchBudget(folder="/x", disk_bytes=30, memory_bytes=10**9)
    assert trials_that_fit(budget, input_bytes=4, output_bytes=4) == 2  # 12 bytes of files a trial
    tight = ScratchBudget(folder="/x", disk_bytes=10**9, memory_bytes=8 + 3 * 4)
    assert trials_that_fit(tight, input_bytes=4, output_bytes=4) == 3  # one trial in flight, three held
    # Compared in the reference worker, only the candidate's outputs are files.
    assert trials_that_fit(budget, input_bytes=4, output_bytes=4, reference_files=False) == 3  # 8 bytes a trial


def test_the_honest_kernel_is_accepted_on_the_trials_that_fit_and_the_check_says_which_were_dropped(tmp_path):
    result = verify_solution(write(tmp_path, "twice.py", PROBLEM), write(tmp_path, "honest.py", HONEST), options(tmp_path, 5.5))
    assert result.verdict == Verdict.ACCEPTED, result.reasons
    ran = {t["case"] for t in result.trials}
    # variant2 (values) has nothing to vary in this problem: its kept slot stays empty
    assert ran == {"shipped-0", "shipped-1", "perturb-elements", "variant1-0"}
    dropped = [n for n in result.notes if "dropped to fit the check's scratch space" in n]
    assert dropped and "5 of 15 trials fit" in dropped[0]


@pytest.mark.parametrize("cheat", sorted(CHEATS))
def test_cheats_are_caught_on_the_reduced_trials(tmp_path, cheat):
    expected, source = CHEATS[cheat]
    result = verify_solution(write(tmp_path, "twice.py", PROBLEM), write(tmp_path, f"{cheat}.py", source), options(tmp_path, 5.5))
    assert result.verdict == expected, (cheat, result.verdict, result.reasons)
    assert any("dropped to fit" in n for n in result.notes)


def test_a_problem_of_which_two_trials_do_not_fit_is_refused_before_the_candidate_runs(tmp_path):
    with pytest.raises(CheckerFailure, match=r"2 trials need .* of disk in .*set TMPDIR to a larger disk"):
        verify_solution(write(tmp_path, "twice.py", PROBLEM), write(tmp_path, "honest.py", HONEST), options(tmp_path, 1.5))
