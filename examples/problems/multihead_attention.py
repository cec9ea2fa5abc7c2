import torch
import torch.nn as nn


class Model(nn.Module):
    """nn.MultiheadAttention self-attention (batch first), fp32: input projection, per-head
    attention, output projection; returns the attended values only."""

    def __init__(self, embed_dim: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.attn(x, x, x, need_weights=False)
        return out


batch_size = 16
seq_len = 512
heads = 8
head_dim = 64
CPU_SIZES = {"batch_size": 2, "seq_len": 24, "heads": 2, "head_dim": 8}


def get_inputs():
    return [torch.randn(batch_size, seq_len, heads * head_dim)]


def get_init_inputs():
    return [heads * head_dim, heads]
