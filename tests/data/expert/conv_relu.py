import torch
import torch.nn as nn


class Model(nn.Module):
    """relu(conv2d(x)): one convolution kernel with the conv's bias and the ReLU fused before the store."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


batch_size = 2
channels = 4
size = 8


def get_inputs():
    return [torch.randn(batch_size, channels, size, size)]


def get_init_inputs():
    return [channels]
