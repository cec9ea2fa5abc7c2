import torch
import torch.nn as nn


class Model(nn.Module):
    """y = depthwise 3x3 conv2d (groups = channels) with bias, as in MobileNet blocks, fp32:
    memory-bound, unlike a dense convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


batch_size = 32
channels = 128
height = 56
width = 56
CPU_SIZES = {"batch_size": 2, "channels": 16, "height": 20, "width": 20}


def get_inputs():
    return [torch.randn(batch_size, channels, height, width)]


def get_init_inputs():
    return [channels]
