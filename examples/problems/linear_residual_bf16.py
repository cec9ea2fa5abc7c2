import torch
import torch.nn as nn


class Model(nn.Module):
    """y = residual + x @ W^T + b in bf16: a transformer's output projection with its residual
    add as the matmul's epilogue."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.proj = nn.Linear(in_features, out_features, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return residual + self.proj(x)


tokens = 4096
in_features = 4096
out_features = 4096
CPU_SIZES = {"tokens": 32, "in_features": 96, "out_features": 80}


def get_inputs():
    return [
        torch.randn(tokens, in_features, dtype=torch.bfloat16),
        torch.randn(tokens, out_features, dtype=torch.bfloat16),
    ]


def get_init_inputs():
    return [in_features, out_features]
