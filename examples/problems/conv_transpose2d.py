import torch
import torch.nn as nn


class Model(nn.Module):
    """y = conv_transpose2d(x), kernel 4, stride 2, padding 1: a 2x learned upsampling (a
    decoder's step), fp32."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(x)


batch_size = 16
in_channels = 128
out_channels = 64
height = 32
width = 32
CPU_SIZES = {"batch_size": 2, "in_channels": 16, "out_channels": 8, "height": 8, "width": 8}


def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]


def get_init_inputs():
    return [in_channels, out_channels]
