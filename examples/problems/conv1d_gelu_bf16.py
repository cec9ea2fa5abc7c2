import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """y = gelu(conv1d(x)) in bf16: a kernel-3 convolution over a sequence (batch, channels, length)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.conv(x))


batch_size = 8
channels = 512
length = 2048
CPU_SIZES = {"batch_size": 2, "channels": 16, "length": 64}


def get_inputs():
    return [torch.randn(batch_size, channels, length, dtype=torch.bfloat16)]


def get_init_inputs():
    return [channels]
