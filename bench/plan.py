"""What a bench runs and where: the problem files of a folder, and the worker slots of this
machine (one per GPU, or --jobs CPU jobs)."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from kernelwright.bench.executor import Slot
from kernelwright.bench.kernelbench import problem_number
from kernelwright.tools.problem import InputError, load_problem


def discover(folder: Path, filters: list[str], limit: int | None) -> list[Path]:
    """The problem files of `folder` (*.py not starting with '_'), filtered by name globs, validated."""
    if not folder.is_dir():
        raise InputError(f"problem folder not found: {folder} (give a folder of KernelBench-format .py files)")
    # KernelBench's numbered files in their numeric order (2_ before 10_); other names alphabetically.
    files = sorted((p for p in folder.glob("*.py") if not p.name.startswith("_")),
                   key=lambda p: (problem_number(p) is None, problem_number(p) or 0, p.name))
    patterns = [g.strip() for f in filters for g in f.split(",") if g.strip()]
    if patterns:
        files = [p for p in files if any(fnmatch.fnmatch(p.stem, g) or fnmatch.fnmatch(p.name, g) for g in patterns)]
    if limit is not None:
        files = files[:limit]
    if not files:
        raise InputError(f"no problem in {folder}" + (f" matches --filter {','.join(patterns)}" if patterns else ": it has no .py files"))
    for path in files:
        load_problem(path)  # a file that is not a problem is bad input: say which, before any run starts
    return files


def plan_slots(device: str, jobs: int | None) -> tuple[list[Slot], str]:
    """(slots, device kind): one slot per visible GPU (at most --jobs), or --jobs CPU slots."""
    if jobs is not None and jobs < 1:
        raise InputError("--jobs must be at least 1")
    kind = device
    if device in ("auto", "cuda") or device.startswith("cuda:"):
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 and device != "auto":
            raise InputError(f"--device {device}: no CUDA GPU is visible here (use --device cpu or auto)")
        kind = "cuda" if count else "cpu"
    elif device != "cpu":
        raise InputError(f"--device {device}: expected auto, cpu, cuda or cuda:N")
    if kind == "cpu":
        n = jobs or max(1, min(4, (os.cpu_count() or 2) // 2))
        threads = str(max(1, (os.cpu_count() or 1) // n))  # n runs side by side share the cores
        return [Slot(f"cpu-{i}", "cpu", {"OMP_NUM_THREADS": threads}) for i in range(n)], "cpu"
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    ids = (visible or [str(i) for i in range(count)])[:count]
    if device.startswith("cuda:"):
        index = int(device.partition(":")[2] or 0)
        if index >= len(ids):
            raise InputError(f"--device {device}: only {len(ids)} CUDA device(s) here")
        ids = [ids[index]]
    # One run per GPU at a time: timings taken side by side on one card would measure contention.
    ids = ids[: jobs or len(ids)]
    return [Slot(f"cuda:{i}", "cuda:0", {"CUDA_VISIBLE_DEVICES": gpu}) for i, gpu in enumerate(ids)], "cuda"
