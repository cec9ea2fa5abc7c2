import torch
import torch.nn as nn


class Model(nn.Module):
    """y = argmax(x, dim=-1): greedy decoding's pick per row; an int64 output that must match
    exactly (random inputs make ties improbable)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.argmax(x, dim=-1)


batch_size = 2048
vocab = 32000
CPU_SIZES = {"batch_size": 32, "vocab": 1000}


def get_inputs():
    return [torch.randn(batch_size, vocab)]


def get_init_inputs():
    return []
