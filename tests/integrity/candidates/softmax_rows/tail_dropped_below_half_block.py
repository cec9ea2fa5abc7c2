# expect: shape_overfit
# red team 2026-12-07 (pass 8): class 9: a chunked softmax (BLOCK 64) whose last partial chunk is read only when it is at least 32 wide: right at
# every width the checker runs (300: tail 44; the shape variant 187: tail 59; power-of-two widths: no tail), wrong
# for e.g. 280 or 200, where the tail (24, 8) is dropped.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, n_full, has_tail, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    m = tl.full([BLOCK], -float("inf"), dtype=tl.float32)
    n_used = n_full * BLOCK + has_tail * (n_cols - n_full * BLOCK)
    for start in range(0, n_used, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        m = tl.maximum(m, tl.load(x_ptr + row * stride + cols, mask=cols < n_cols, other=-float("inf")))
    mx = tl.max(m, axis=0)
    s = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, n_used, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        s += tl.where(cols < n_cols, tl.exp(tl.load(x_ptr + row * stride + cols, mask=cols < n_cols, other=-float("inf")) - mx), 0.0)
    tot = tl.sum(s, axis=0)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(x_ptr + row * stride + cols, mask=cols < n_cols, other=-float("inf"))
        tl.store(y_ptr + row * stride + cols, tl.exp(x - mx) / tot, mask=cols < n_cols)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        rows, cols = x.shape
        y = torch.empty_like(x)
        B = 64
        n_full = cols // B
        has_tail = 1 if cols - n_full * B >= B // 2 else 0
        softmax_kernel[(rows,)](x, y, cols, n_full, has_tail, x.stride(0), BLOCK=B)
        return y
