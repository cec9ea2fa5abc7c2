"""GroupNorm over channels and two spatial dims (one row per (sample, group))."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.gn = nn.GroupNorm(groups, channels)

    def forward(self, x):
        return self.gn(x)


batch, channels, groups, height, width = 3, 12, 4, 7, 9


def get_inputs():
    return [torch.randn(batch, channels, height, width) * 2 + 1]


def get_init_inputs():
    return [channels, groups]
