# expect: wrong_output
# red team 2026-12-07 (pass 8): class 9: LayerNorm's weight and bias are read as one scalar each (w[0], b[0]) and broadcast: right while the
# affine is uniform, which it is at nn.LayerNorm's default init and still after the params trial (a*1+b is
# uniform again); wrong for any trained LayerNorm.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def fused_kernel(ids_ptr, tok_ptr, pos_ptr, w_ptr, b_ptr, out_ptr, seq_len, dim, eps, BLOCK: tl.constexpr):
    t = tl.program_id(0)
    s = t % seq_len
    tok = tl.load(ids_ptr + t)
    cols = tl.arange(0, BLOCK)
    mask = cols < dim
    x = tl.load(tok_ptr + tok * dim + cols, mask=mask, other=0.0) + tl.load(pos_ptr + s * dim + cols, mask=mask, other=0.0)
    mean = tl.sum(x, axis=0) / dim
    d = tl.where(mask, x - mean, 0.0)
    var = tl.sum(d * d, axis=0) / dim
    w0 = tl.load(w_ptr)
    b0 = tl.load(b_ptr)
    y = d / tl.sqrt(var + eps) * w0 + b0
    tl.store(out_ptr + t * dim + cols, y, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, vocab, max_len, dim):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)

    def forward(self, ids):
        B, S = ids.shape
        dim = self.positions.shape[1]
        out = torch.empty((B, S, dim), dtype=self.positions.dtype, device=ids.device)
        fused_kernel[(B * S,)](ids.contiguous(), self.tokens.weight, self.positions, self.norm.weight, self.norm.bias, out,
                               S, dim, self.norm.eps, BLOCK=triton.next_power_of_2(dim))
        return out
