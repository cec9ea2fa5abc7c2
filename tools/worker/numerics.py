"""The numerics the reference's outputs are computed with (not its timing).

torch's defaults let cuBLAS reduce bf16/fp16 split-K partial sums in 16 bits and let cuDNN run
fp32 convolutions in TF32. Both make the reference itself less exact than the tolerance it is
judged with: on an H200 (2026-11-26), linear_residual_bf16's reference at the 2559 variant was up
to 0.125 away from an evaluation with exact, correctly rounded matmuls, and 31-35 of its 6.5M
elements failed the default bf16 tolerance (benchmarks/tolerance_floor.py). A candidate would then
be judged against the library's rounding noise rather than the function. So the outputs a
candidate is compared with are computed with these shortcuts off; eager is still *timed* with
torch's defaults, its fastest honest configuration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

PRECISE = {
    ("cuda.matmul", "allow_bf16_reduced_precision_reduction"): False,
    ("cuda.matmul", "allow_fp16_reduced_precision_reduction"): False,
    ("cuda.matmul", "allow_tf32"): False,
    ("cudnn", "allow_tf32"): False,
}


def _owner(path: str):
    obj = torch.backends
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@contextlib.contextmanager
def precise_reference() -> Iterator[None]:
    """Run the block with the library's reduced-precision shortcuts off; restore them after."""
    saved = {key: getattr(_owner(key[0]), key[1]) for key in PRECISE}
    try:
        for (path, name), value in PRECISE.items():
            setattr(_owner(path), name, value)
        yield
    finally:
        for (path, name), value in saved.items():
            setattr(_owner(path), name, value)
