import torch
import torch.nn as nn


class Model(nn.Module):
    """y = x * weight[c] * factor + bias[c] over NCHW, shaped like KernelBench's level-2 files: a
    batch of 2 and 3 channels (small integers), a chained `height = width`, a float factor."""

    def __init__(self, channels: int, factor: float):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels))
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.view(1, -1, 1, 1) * self.factor + self.bias.view(1, -1, 1, 1)


batch_size = 2
channels = 3
height = width = 16
factor = 0.5


def get_inputs():
    return [torch.randn(batch_size, channels, height, width)]


def get_init_inputs():
    return [channels, factor]
