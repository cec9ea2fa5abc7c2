import torch
import torch.nn as nn


class Model(nn.Module):
    """y = max_pool2d(x, kernel 3, stride 2, padding 1): the pooling after a ResNet stem, fp32."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


batch_size = 16
channels = 64
height = 112
width = 112
CPU_SIZES = {"batch_size": 2, "channels": 8, "height": 20, "width": 20}


def get_inputs():
    return [torch.randn(batch_size, channels, height, width)]


def get_init_inputs():
    return []
