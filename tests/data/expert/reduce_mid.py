"""Sum, max, min and mean over a middle dim (one column reduction per (batch, last-dim) pair)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.sum(x, dim=1) * 0.5 + x.max(dim=1).values - torch.min(x, 1)[0] + x.mean(1)


batch, dim1, dim2 = 3, 37, 45


def get_inputs():
    return [torch.randn(batch, dim1, dim2)]


def get_init_inputs():
    return []
