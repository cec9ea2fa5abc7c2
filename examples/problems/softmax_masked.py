import torch
import torch.nn as nn


class Model(nn.Module):
    """y = softmax(scores * scale + mask, dim=-1): attention probabilities with an additive key
    mask (a row vector broadcast over every query row; -10000 on masked keys)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(scores * self.scale + mask, dim=-1)


rows = 16384
keys = 1024
CPU_SIZES = {"rows": 48, "keys": 320}


def get_inputs():
    mask = torch.where(torch.rand(1, keys) < 0.1, -10000.0, 0.0)
    return [torch.randn(rows, keys) * 4.0, mask]


def get_init_inputs():
    return [0.125]
