"""argmin over a middle dim given at construction (int64 indices; 300 rows: a chunked loop)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.argmin(x, dim=self.dim)


batch, dim1, dim2 = 3, 300, 45


def get_inputs():
    return [torch.randn(batch, dim1, dim2)]


def get_init_inputs():
    return [1]
