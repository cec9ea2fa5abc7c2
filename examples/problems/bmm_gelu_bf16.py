import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """y = gelu(bmm(a, b)) in bf16: a batch of independent products with an activation epilogue."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.gelu(torch.bmm(a, b))


batch = 16
m = 1024
k = 1024
n = 1024
CPU_SIZES = {"batch": 2, "m": 24, "k": 40, "n": 32}


def get_inputs():
    return [torch.randn(batch, m, k, dtype=torch.bfloat16), torch.randn(batch, k, n, dtype=torch.bfloat16)]


def get_init_inputs():
    return []
