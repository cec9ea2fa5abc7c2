import torch
import torch.nn as nn


class Model(nn.Module):
    """y = avg_pool2d(x, 2) in bf16: 2x2 average pooling with stride 2 (odd sizes drop the last
    row and column)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(kernel_size=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


batch_size = 32
channels = 256
height = 56
width = 56
CPU_SIZES = {"batch_size": 2, "channels": 16, "height": 12, "width": 12}


def get_inputs():
    return [torch.randn(batch_size, channels, height, width, dtype=torch.bfloat16)]


def get_init_inputs():
    return []
