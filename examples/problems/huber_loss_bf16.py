import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """loss = mean Huber loss (delta 1) between two bf16 tensors: quadratic near zero, linear
    beyond; a scalar output."""

    def __init__(self):
        super().__init__()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.huber_loss(pred, target, delta=1.0)


batch_size = 4096
dim = 4096
CPU_SIZES = {"batch_size": 64, "dim": 500}


def get_inputs():
    return [torch.randn(batch_size, dim, dtype=torch.bfloat16) * 2.0, torch.randn(batch_size, dim, dtype=torch.bfloat16)]


def get_init_inputs():
    return []
