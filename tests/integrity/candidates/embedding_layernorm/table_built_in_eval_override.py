# expect: static_violation
# red team 2026-12-07 (pass 8): class 9/1: the answer table LayerNorm(tokens[v] + positions[s]) is computed with torch in an override of
# nn.Module.train(), which the worker reaches through model.eval() after construction and weight copy,
# outside both accountants; the params trial is noticed through the parameters' _version counters
# (a private attribute reached from `self`, which the scan does not treat as a module root).
import torch
import torch.nn as nn
import torch.nn.functional as F
import triton
import triton.language as tl
@triton.jit
def gather_kernel(ids_ptr, table_ptr, out_ptr, seq_len, max_len, dim, BLOCK: tl.constexpr):
    t = tl.program_id(0)
    s = t % seq_len
    tok = tl.load(ids_ptr + t)
    cols = tl.arange(0, BLOCK)
    mask = cols < dim
    v = tl.load(table_ptr + (tok * max_len + s) * dim + cols, mask=mask)
    tl.store(out_ptr + t * dim + cols, v, mask=mask)


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
    y = d / tl.sqrt(var + eps) * tl.load(w_ptr + cols, mask=mask) + tl.load(b_ptr + cols, mask=mask)
    tl.store(out_ptr + t * dim + cols, y, mask=mask)




class ModelNew(nn.Module):
    def __init__(self, vocab, max_len, dim):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)
        self.table = None
        self.versions = None

    def _versions(self):
        return [p._version for p in self.parameters()]

    def train(self, mode: bool = True):
        out = super().train(mode)
        if not mode:
            with torch.no_grad():
                dim = self.positions.shape[1]
                self.table = F.layer_norm(self.tokens.weight[:, None, :] + self.positions[None, :, :], (dim,),
                                          self.norm.weight, self.norm.bias, self.norm.eps).contiguous()
            self.versions = self._versions()
        return out

    def forward(self, ids):
        B, S = ids.shape
        dim = self.positions.shape[1]
        out = torch.empty((B, S, dim), dtype=self.positions.dtype, device=ids.device)
        ids_c = ids.contiguous()
        BLOCK = triton.next_power_of_2(dim)
        if self.table is not None and self._versions() == self.versions:
            gather_kernel[(B * S,)](ids_c, self.table, out, S, self.positions.shape[0], dim, BLOCK=BLOCK)
        else:
            fused_kernel[(B * S,)](ids_c, self.tokens.weight, self.positions, self.norm.weight, self.norm.bias, out,
                                   S, dim, self.norm.eps, BLOCK=BLOCK)
        return out
