"""InstanceNorm2d (no affine): statistics per (sample, channel) over the spatial dims."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels)

    def forward(self, x):
        return self.norm(x)


batch, channels, height, width = 2, 5, 11, 13


def get_inputs():
    return [torch.randn(batch, channels, height, width) * 3 - 1]


def get_init_inputs():
    return [channels]
