import torch
import torch.nn as nn


class Model(nn.Module):
    """y = (a + b) * a: a two-input elementwise chain.

    The inputs are deliberately small (|y| is about 1e-6, its maximum below 1e-4), so that a
    fixed absolute tolerance of 1e-4 would let an all-zeros output pass; the strict tolerance
    (atol_eff = min(atol, 1e-3 * max|ref|)) must not.
    """

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a + b) * a


batch_size = 4096
dim = 4096
CPU_SIZES = {"batch_size": 64, "dim": 500}  # the sizes used on the CPU (Triton's interpreter)


def get_inputs():
    return [torch.randn(batch_size, dim) * 1e-3, torch.randn(batch_size, dim) * 1e-3]


def get_init_inputs():
    return []
