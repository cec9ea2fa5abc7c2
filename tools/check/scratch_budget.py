"""How many trials of a check fit the disk and memory it may use (no torch: the parent measures,
the reference worker decides once it has run the first trial).

Every trial moves the candidate's outputs (and inputs no seed makes again) between the check's
processes through files in the check's scratch folder, and the reference worker holds every
reference output until the candidate's are compared (in a run with a reference cache, the
reference's outputs go through files too, and the parent holds them). At KernelBench's full sizes (19_ReLU: 6.4 GB a tensor) the 15 trials of a check
would need about 290 GB of disk, more than the GPU machine has. So the reference worker measures
its first trial, keeps as many trials as fit, choosing one of each kind before a second of any
(the seeded trial, a secret one, a perturbation, the changed parameters, each shape variant, then
stress and the rest), and says which it dropped and why. When not even the seeded trial and one
secret trial fit, the check is refused before the candidate runs (a tool error naming the folder,
the bytes needed and the bytes free), never judged on fewer trials than that.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from kernelwright.tools.check.plan import CasePlan, VariantPlan

MIN_TRIALS = 2  # the seeded trial and one secret trial: fewer is not a check
DISK_SHARE = 0.8  # of the free disk: the file system is shared with whatever else runs
MEMORY_SHARE = 0.6  # of the available memory: the children hold their own copies meanwhile


def size(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


class ScratchBudget(BaseModel):
    """What the parent measured before the check began (or a test or user set)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    folder: str  # where the trials' files go
    disk_bytes: int
    memory_bytes: int


def available_memory() -> int:
    """MemAvailable (page cache the kernel can drop counts), else the free pages."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def measure(folder: Path) -> ScratchBudget:
    stat = os.statvfs(folder)
    return ScratchBudget(folder=str(folder), disk_bytes=int(stat.f_bavail * stat.f_frsize * DISK_SHARE),
                         memory_bytes=int(available_memory() * MEMORY_SHARE))


def _files(output_bytes: int, reference_files: bool) -> int:
    """Output bytes a trial writes: the candidate's, and the reference's when they go to the parent."""
    return (2 if reference_files else 1) * output_bytes


def trials_that_fit(budget: ScratchBudget, input_bytes: int, output_bytes: int, reference_files: bool = True,
                    shared_outputs: bool = False) -> int:
    """Trials whose files fit the disk (inputs, the candidate's outputs and, when the parent
    compares, the reference's) and whose reference outputs fit in memory (the parent's, or the
    reference worker's when it compares; plus one trial being compared). `shared_outputs`: the
    candidate's outputs are sealed memory files (`output_share`), held in memory, not on disk."""
    per_disk = max(input_bytes + (0 if shared_outputs else _files(output_bytes, reference_files)), 1)
    by_disk = budget.disk_bytes // per_disk
    by_memory = (budget.memory_bytes - input_bytes - output_bytes) // max((2 if shared_outputs else 1) * output_bytes, 1)
    return int(max(0, min(by_disk, by_memory)))


def priority(variant: VariantPlan, index: int, case: CasePlan) -> tuple[int, int]:
    """Lower first: one trial of every kind before a second of any."""
    if variant.kind != "shipped":
        return (4 if index == 0 else 7, index)
    if case.kind == "plain":
        return (min(index, 1) if index < 2 else 8, index)
    if case.kind == "perturb":
        return (2 if case.how == "elements" else 6, index)
    if case.kind == "params":
        return (3, index)
    return (5, index)  # stress


def kept_trials(variants: list[VariantPlan], fit: int, has_parameters: bool = True) -> set[str]:
    """The ids of the `fit` trials to run, by `priority` (no slot for a params trial that the
    reference would skip: a Model without floating-point parameters)."""
    ranked = sorted((priority(v, i, c), c.id) for v in variants for i, c in enumerate(v.cases)
                    if has_parameters or c.kind != "params")
    return {case_id for _, case_id in ranked[:fit]}


def refusal(budget: ScratchBudget, input_bytes: int, output_bytes: int, reference_files: bool = True, shared_outputs: bool = False) -> str:
    need_disk = MIN_TRIALS * (input_bytes + (0 if shared_outputs else _files(output_bytes, reference_files)))
    need_memory = MIN_TRIALS * (2 if shared_outputs else 1) * output_bytes + input_bytes + output_bytes
    return (f"a trial of this problem moves {size(input_bytes + output_bytes)} between the check's processes "
            f"(inputs {size(input_bytes)}, output {size(output_bytes)}); {MIN_TRIALS} trials need "
            f"{size(need_disk)} of disk in {budget.folder} (usable: {size(budget.disk_bytes)}) and "
            f"{size(need_memory)} of memory (usable: {size(budget.memory_bytes)}): free space there, "
            "set TMPDIR to a larger disk, or shrink the problem's sizes")


def dropped_why(kept: int, total: int, input_bytes: int, output_bytes: int, budget: ScratchBudget, reference_files: bool = True,
                shared_outputs: bool = False) -> str:
    files = input_bytes + (0 if shared_outputs else _files(output_bytes, reference_files))
    return (f"dropped to fit the check's scratch space: {kept} of {total} trials fit "
            f"({size(files)} of files a trial, {size(budget.disk_bytes)} of disk usable in "
            f"{budget.folder}; {size((2 if shared_outputs else 1) * output_bytes)} of memory a trial, {size(budget.memory_bytes)} usable)")
