import torch
import torch.nn as nn


class Model(nn.Module):
    """Each row's smallest and largest value: torch returns a named tuple (torch.return_types.aminmax)."""

    def forward(self, x):
        return torch.aminmax(x, dim=1)


M, N = 64, 256


def get_inputs():
    return [torch.randn(M, N)]


def get_init_inputs():
    return []
