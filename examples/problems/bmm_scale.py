import torch
import torch.nn as nn


class Model(nn.Module):
    """scores = bmm(q, k^T) * scale: attention-style scores, a batched product of one input with
    the transpose of another, with a scaling epilogue (fp32)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return torch.bmm(q, k.transpose(1, 2)) * self.scale


batch = 32
seq_q = 1024
seq_k = 1024
head_dim = 64
CPU_SIZES = {"batch": 3, "seq_q": 33, "seq_k": 45, "head_dim": 24}  # the sizes used on the CPU (Triton's interpreter)


def get_inputs():
    return [torch.randn(batch, seq_q, head_dim), torch.randn(batch, seq_k, head_dim)]


def get_init_inputs():
    return [0.125]
