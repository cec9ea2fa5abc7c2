import torch
import torch.nn as nn


class Model(nn.Module):
    """y = (a @ b) * alpha + bias: a product of two inputs (no weight matrix) with a scale and a
    learned per-column bias in the epilogue, fp32."""

    def __init__(self, n: int, alpha: float):
        super().__init__()
        self.alpha = alpha
        self.bias = nn.Parameter(torch.randn(n))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b) * self.alpha + self.bias


m = 2048
k = 2048
n = 2048
CPU_SIZES = {"m": 40, "k": 72, "n": 56}


def get_inputs():
    return [torch.randn(m, k), torch.randn(k, n)]


def get_init_inputs():
    return [n, 0.5]
