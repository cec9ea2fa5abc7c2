"""BatchNorm2d in inference (the check evaluates models in eval(): running statistics, per channel)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return self.bn(x)


batch, channels, height, width = 4, 6, 9, 10


def get_inputs():
    return [torch.randn(batch, channels, height, width) + 0.5]


def get_init_inputs():
    return [channels]
