# expect: accepted
# red team 2026-12-06: two kernels (row statistics into a scratch buffer, then normalise + affine); the first is made by calling triton.jit on a plain top-level function (no decorator) and launched with [grid], the second is launched through JITFunction.run(..., grid=..., warmup=False); do_not_specialize on eps; masked column loops over a fixed BLOCK.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def _row_stats(x_ptr, stats_ptr, n_cols, row_stride, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        acc += tl.load(x_ptr + row * row_stride + cols, mask=cols < n_cols, other=0.0)
    mean = tl.sum(acc, axis=0) / n_cols
    acc2 = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_cols
        d = tl.where(mask, tl.load(x_ptr + row * row_stride + cols, mask=mask, other=0.0) - mean, 0.0)
        acc2 += d * d
    var = tl.sum(acc2, axis=0) / n_cols
    tl.store(stats_ptr + row * 2, mean)
    tl.store(stats_ptr + row * 2 + 1, 1.0 / tl.sqrt(var + eps))


row_stats_kernel = triton.jit(_row_stats, do_not_specialize=["eps"])


@triton.jit
def normalize_kernel(x_ptr, stats_ptr, w_ptr, b_ptr, y_ptr, n_cols, row_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    mean = tl.load(stats_ptr + row * 2)
    rstd = tl.load(stats_ptr + row * 2 + 1)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(x_ptr + row * row_stride + cols, mask=mask, other=0.0)
        w = tl.load(w_ptr + cols, mask=mask, other=0.0)
        b = tl.load(b_ptr + cols, mask=mask, other=0.0)
        tl.store(y_ptr + row * row_stride + cols, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, normalized_shape: int):
        super().__init__()
        self.ln = nn.LayerNorm(normalized_shape, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        rows, cols = x2.shape
        stats = torch.empty(rows, 2, dtype=torch.float32, device=x.device)
        y2 = torch.empty_like(x2)
        row_stats_kernel[(rows,)](x2, stats, cols, x2.stride(0), self.ln.eps, BLOCK=128)
        normalize_kernel.run(x2, stats, self.ln.weight, self.ln.bias, y2, cols, x2.stride(0), BLOCK=128,
                             grid=(rows,), warmup=False)
        return y2.view(x.shape)
