import torch
import torch.nn as nn


class Model(nn.Module):
    """y = cumprod(x, dim=-1) of factors near 1 (so the products neither vanish nor overflow), fp32."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumprod(x, dim=-1)


batch_size = 8192
length = 2048
CPU_SIZES = {"batch_size": 32, "length": 400}


def get_inputs():
    return [1.0 + 0.01 * torch.randn(batch_size, length)]


def get_init_inputs():
    return []
