import torch
import torch.nn as nn


class Model(nn.Module):
    """y = relu(conv2d(x)): a 3x3 convolution with padding 1, as in a ResNet stage, fp32."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


batch_size = 16
in_channels = 64
out_channels = 128
height = 56
width = 56
kernel_size = 3
CPU_SIZES = {"batch_size": 2, "in_channels": 8, "out_channels": 16, "height": 12, "width": 12}


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]
