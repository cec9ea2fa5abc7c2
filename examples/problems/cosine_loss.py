import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """loss = mean(1 - cos(a_i, b_i)) over rows (an embedding-alignment loss), fp32: three row
    reductions (a.b, |a|, |b|), then a mean to a scalar."""

    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (1.0 - F.cosine_similarity(a, b, dim=-1)).mean()


batch_size = 16384
dim = 1024
CPU_SIZES = {"batch_size": 64, "dim": 256}


def get_inputs():
    return [torch.randn(batch_size, dim), torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
