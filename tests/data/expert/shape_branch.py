import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """silu(x @ W^T + b) * 2, with Python control flow on a size that torch.fx cannot trace
    (a Proxy has no truth value) and torch.export specialises at the traced sizes."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.proj = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj(x)
        if y.shape[-1] > 8:  # true at the shipped size and at the checker's smaller variant
            y = F.silu(y) * 2.0
        return y


batch_size = 24
in_features = 40
out_features = 36


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]
