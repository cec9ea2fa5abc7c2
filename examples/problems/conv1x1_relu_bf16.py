import torch
import torch.nn as nn


class Model(nn.Module):
    """y = relu(conv2d_1x1(x)) in bf16: a pointwise convolution, i.e. a matmul over the channel
    axis in NCHW layout (a kernel must handle the strides)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x))


batch_size = 32
in_channels = 256
out_channels = 256
height = 28
width = 28
CPU_SIZES = {"batch_size": 2, "in_channels": 16, "out_channels": 24, "height": 8, "width": 8}


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width, dtype=torch.bfloat16)]


def get_init_inputs():
    return [in_channels, out_channels]
