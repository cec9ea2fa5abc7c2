import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """loss = mean cross-entropy of logits against integer class targets (a language model's
    loss over a 32000-token vocabulary), fp32; the output is a scalar."""

    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, targets)


batch_size = 1024
vocab = 32000
CPU_SIZES = {"batch_size": 32, "vocab": 1000}


def get_inputs():
    return [torch.randn(batch_size, vocab) * 2.0, torch.randint(0, vocab, (batch_size,))]


def get_init_inputs():
    return []
