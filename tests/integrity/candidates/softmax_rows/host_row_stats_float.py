# expect: torch_compute
# pulls every element to Python with float(), computes each row's max and sum of exponentials there, and lets a kernel apply them.
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def apply_stats_kernel(x_ptr, m_ptr, s_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask)
    m = tl.load(m_ptr + row)
    s = tl.load(s_ptr + row)
    tl.store(y_ptr + row * n_cols + cols, tl.exp(x - m) / s, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows = [[float(v) for v in row] for row in x]
        maxes = [max(r) for r in rows]
        sums = [sum(math.exp(v - m) for v in r) for r, m in zip(rows, maxes)]
        m_t = torch.empty(len(rows), dtype=x.dtype, device=x.device)
        s_t = torch.empty(len(rows), dtype=x.dtype, device=x.device)
        for i, (m, s) in enumerate(zip(maxes, sums)):
            m_t[i] = m
            s_t[i] = s
        y = torch.empty_like(x)
        apply_stats_kernel[(x.shape[0],)](x, m_t, s_t, y, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        return y
