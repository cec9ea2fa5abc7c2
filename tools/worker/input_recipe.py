"""A trial's inputs as a recipe both workers follow, instead of a file between them.

At KernelBench's full sizes an input is several GB (19_ReLU: 6.4 GB); writing it to the check's
folder and reading it back in the candidate's process cost about 14 s a trial on a 1 GB/s disk
and filled the disk. Every input of a check is made from a seed by the problem's own
`get_inputs` on the device, then perhaps perturbed or stressed, all deterministic: the reference
worker sends the recipe (a few numbers) and a fingerprint of what it made, the candidate worker
makes the same inputs on its device and compares the fingerprint before the call. A problem whose
`get_inputs` draws from a source no seed controls (the reference worker finds out by making its
first trial twice) still goes through files.

No pydantic here: the candidate worker imports this (see `candidate_protocol`).
"""

from __future__ import annotations

from typing import Any

import torch

from kernelwright.tools.worker import trials
from kernelwright.tools.worker.candidate_protocol import InputRecipe
from kernelwright.tools.worker.common import cast_inputs, generate_inputs, seed_everything

FINGERPRINT_CHUNK = 1 << 24  # words per step: the int64 temporaries stay at 128 MiB


def make_inputs(module: Any, recipe: InputRecipe, device: torch.device, dtype: torch.dtype | None) -> list[Any]:
    seed_everything(recipe.seed)
    values = cast_inputs(generate_inputs(module, device), device, dtype)
    if recipe.perturb:
        values, _ = trials.perturb(values, recipe.perturb, recipe.perturb_seed, recipe.degenerate_rows)
    if recipe.stress:
        values = trials.stress_inputs(values, recipe.stress, recipe.stress_factor)
    return values


def fingerprint(values: list[Any]) -> str:
    """Shape, dtype and an exact position-weighted sum of every tensor's bits (16-bit words, so
    the int64 sum cannot overflow); other values by repr. Equal inputs give equal text on any run
    of the same device; a different draw differs."""
    parts = []
    for value in values:
        if not isinstance(value, torch.Tensor):
            parts.append(repr(value))
            continue
        words = value.detach().contiguous().reshape(-1)
        words = words.view(torch.int16) if words.element_size() >= 2 else words.view(torch.uint8)
        total = 0
        for start in range(0, words.numel(), FINGERPRINT_CHUNK):
            chunk = words[start:start + FINGERPRINT_CHUNK].to(torch.int64)
            weights = (torch.arange(start, start + chunk.numel(), device=chunk.device) % 1021) + 1
            total += int((chunk * weights).sum())
        parts.append(f"{tuple(value.shape)}:{str(value.dtype).removeprefix('torch.')}:{total}")
    return ";".join(parts)
