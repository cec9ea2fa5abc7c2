import torch
import torch.nn as nn


class Model(nn.Module):
    """residual + linear(x) in bf16, where the linear's output (magnitude ~4.6) often cancels most
    of the residual: the reference rounds the linear's output to bf16 before the add, so a kernel
    that keeps it in fp32 misses small results by more than the 16-bit tolerance."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.proj = nn.Linear(in_features, out_features, dtype=torch.bfloat16)
        with torch.no_grad():
            self.proj.weight.mul_(8.0)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return residual + self.proj(x)


tokens = 32
in_features = 64
out_features = 48


def get_inputs():
    return [torch.randn(tokens, in_features, dtype=torch.bfloat16), torch.randn(tokens, out_features, dtype=torch.bfloat16) * 4.6]


def get_init_inputs():
    return [in_features, out_features]
