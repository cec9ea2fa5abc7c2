import torch
import torch.nn as nn


class Model(nn.Module):
    """y = log_softmax(logits, dim=-1) in bf16 over a 32000-token vocabulary (not a power of two)."""

    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits, dim=-1)


batch_size = 1024
vocab = 32000
CPU_SIZES = {"batch_size": 16, "vocab": 1000}


def get_inputs():
    return [torch.randn(batch_size, vocab, dtype=torch.bfloat16) * 3.0]


def get_init_inputs():
    return []
