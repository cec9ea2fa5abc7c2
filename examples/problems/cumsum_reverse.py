import torch
import torch.nn as nn


class Model(nn.Module):
    """y[i] = sum of x[j] for j >= i along the last dim: a reverse prefix sum (as in discounted
    returns), written with two flips, fp32."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x.flip(-1), dim=-1).flip(-1)


batch_size = 8192
length = 4096
CPU_SIZES = {"batch_size": 32, "length": 500}


def get_inputs():
    return [torch.randn(batch_size, length)]


def get_init_inputs():
    return []
