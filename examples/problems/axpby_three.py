import torch
import torch.nn as nn


class Model(nn.Module):
    """y = alpha * a + b * c: three same-shape inputs (a residual plus a gated branch)."""

    def __init__(self, alpha: float):
        super().__init__()
        self.alpha = alpha

    def forward(self, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.alpha * a + b * c


batch_size = 4096
dim = 4096
CPU_SIZES = {"batch_size": 64, "dim": 500}


def get_inputs():
    return [torch.randn(batch_size, dim), torch.randn(batch_size, dim), torch.randn(batch_size, dim)]


def get_init_inputs():
    return [0.75]
