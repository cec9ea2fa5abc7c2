import torch
import torch.nn as nn


class Model(nn.Module):
    """y = x.sum(dim=0): a reduction over the first dim (one sum per column, e.g. a bias
    gradient), fp32; the reads along a column are strided."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=0)


rows = 8192
cols = 4096
CPU_SIZES = {"rows": 300, "cols": 64}


def get_inputs():
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []
