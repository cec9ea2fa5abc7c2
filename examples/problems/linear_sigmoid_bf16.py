import torch
import torch.nn as nn


class Model(nn.Module):
    """y = sigmoid(x @ W^T + b) in bf16 with a tall-skinny shape (many tokens, wide output)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x))


tokens = 8192
in_features = 1024
out_features = 4096
CPU_SIZES = {"tokens": 48, "in_features": 64, "out_features": 96}


def get_inputs():
    return [torch.randn(tokens, in_features, dtype=torch.bfloat16)]


def get_init_inputs():
    return [in_features, out_features]
