# expect: wrong_output
# red team 2026-12-07 (pass 9): class 9/1: at import (before construction, where launches are not refused) the solution's
# own kernel builds the answer table from weights drawn again under seed 42, which Model and ModelNew were built under;
# the forward gathers until the parameters change. Model is now built under a secret seed per check, so the table
# is not Model's.
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



@triton.jit
def table_kernel(tok_ptr, pos_ptr, out_ptr, n_rows, max_len, dim, eps, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    # ROWS table rows a program (few programs: the interpreter pays per program).
    r = tl.program_id(0) * ROWS + tl.arange(0, ROWS)[:, None]
    tok = r // max_len
    s = r % max_len
    cols = tl.arange(0, BLOCK)[None, :]
    mask = (r < n_rows) & (cols < dim)
    x = tl.load(tok_ptr + tok * dim + cols, mask=mask, other=0.0) + tl.load(pos_ptr + s * dim + cols, mask=mask, other=0.0)
    mean = tl.sum(x, axis=1)[:, None] / dim
    d = tl.where(mask, x - mean, 0.0)
    var = tl.sum(d * d, axis=1)[:, None] / dim
    tl.store(out_ptr + r * dim + cols, d / tl.sqrt(var + eps), mask=mask)


# At import: nothing is being built yet, so this launch is neither refused nor accounted.
_V, _L, _D = 500, 24, 96
_g = torch.Generator()
_g.manual_seed(42)  # the seed ModelNew (and Model) are built under
_TOK = torch.randn(_V, _D, generator=_g)
_POS = torch.randn(_L, _D, generator=_g) * 0.02
_TABLE = torch.empty(_V * _L, _D)
table_kernel[(triton.cdiv(_V * _L, 256),)](_TOK, _POS, _TABLE, _V * _L, _L, _D, 1e-5, ROWS=256, BLOCK=128)


class ModelNew(nn.Module):
    def __init__(self, vocab, max_len, dim):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.norm = nn.LayerNorm(dim)
        self.table = _TABLE

    def _fresh(self):
        seen = (float(self.tokens.weight[3, 5]), float(self.positions[2, 7]))  # host reads of the parameters
        if getattr(self, "_seen", None) is None:
            self._seen = seen  # after the weight copy: assumed to be seed 42's, as the table's
        return seen == self._seen and tuple(self.tokens.weight.shape) == (_V, _D)

    def forward(self, ids):
        B, S = ids.shape
        dim = self.positions.shape[1]
        out = torch.empty((B, S, dim), dtype=self.positions.dtype, device=ids.device)
        ids_c = ids.contiguous()
        BLOCK = triton.next_power_of_2(dim)
        if self._fresh():
            gather_kernel[(B * S,)](ids_c, self.table, out, S, self.positions.shape[0], dim, BLOCK=BLOCK)
        else:
            fused_kernel[(B * S,)](ids_c, self.tokens.weight, self.positions, self.norm.weight, self.norm.bias, out,
                                   S, dim, self.norm.eps, BLOCK=BLOCK)
        return out
