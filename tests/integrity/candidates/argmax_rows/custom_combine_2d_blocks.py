# expect: wrong_output
# red team 2026-12-07 (pass 5): same order dependence in another form: 2-D block (4 rows per program, reduce axis=1), combine "replace only if strictly greater" written with v2 > v1 and no index comparison; the interpreter's left fold keeps the first of a tie.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _replace_if_greater(v1, i1, v2, i2):
    take = v2 > v1
    return tl.where(take, v2, v1), tl.where(take, i2, i1)


@triton.jit
def argmax_kernel(x_ptr, out_ptr, n_rows, n_cols, stride, ROWS: tl.constexpr, BLOCK: tl.constexpr):
    r = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK)
    mask = (r[:, None] < n_rows) & (cols[None, :] < n_cols)
    x = tl.load(x_ptr + r[:, None] * stride + cols[None, :], mask=mask, other=float("-inf"))
    idx = tl.broadcast_to(cols[None, :], (ROWS, BLOCK))
    v, i = tl.reduce((x, idx), 1, _replace_if_greater)
    tl.store(out_ptr + r, i.to(tl.int64), mask=r < n_rows)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        n = x2.shape[0]
        out = torch.empty(n, dtype=torch.int64, device=x.device)
        argmax_kernel[(triton.cdiv(n, 4),)](x2, out, n, x2.shape[1], x2.stride(0), ROWS=4, BLOCK=triton.next_power_of_2(x2.shape[1]))
        return out.view(x.shape[:-1])
