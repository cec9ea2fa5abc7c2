import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """A pre-norm transformer block in bf16: x + attn(LN(x)), then + MLP(LN(.)); causal
    multi-head attention through scaled_dot_product_attention, GELU MLP of width 4d."""

    def __init__(self, heads: int, head_dim: int):
        super().__init__()
        dim = heads * head_dim
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim, dtype=torch.bfloat16)
        self.qkv = nn.Linear(dim, 3 * dim, dtype=torch.bfloat16)
        self.proj = nn.Linear(dim, dim, dtype=torch.bfloat16)
        self.ln2 = nn.LayerNorm(dim, dtype=torch.bfloat16)
        self.up = nn.Linear(dim, 4 * dim, dtype=torch.bfloat16)
        self.down = nn.Linear(4 * dim, dim, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
        return x + self.down(F.gelu(self.up(self.ln2(x))))


batch_size = 8
seq_len = 1024
heads = 8
head_dim = 64
CPU_SIZES = {"batch_size": 1, "seq_len": 16, "heads": 2, "head_dim": 8}


def get_inputs():
    return [torch.randn(batch_size, seq_len, heads * head_dim, dtype=torch.bfloat16)]


def get_init_inputs():
    return [heads, head_dim]
