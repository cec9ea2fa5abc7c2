import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """y = x + hardswish(x) * w: a per-channel learned scale (last dim) over a 3-D input."""

    def __init__(self, dim: int):
        super().__init__()
        self.w = nn.Parameter(torch.rand(dim) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + F.hardswish(x) * self.w


batch_size = 8
seq_len = 2048
dim = 1024
CPU_SIZES = {"batch_size": 2, "seq_len": 48, "dim": 320}


def get_inputs():
    return [torch.randn(batch_size, seq_len, dim) * 3.0]


def get_init_inputs():
    return [dim]
