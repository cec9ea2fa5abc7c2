# expect: wrong_output
# red team 2026-12-07 (pass 5): fragile: "shifted" one-pass variance E[(x-c)^2] - (E[x]-c)^2 with c = +max|x| of the row: exact for a positive offset (the only sign stress-offset tries), catastrophic cancellation for rows offset negatively (x ~ -K gives x-c ~ -2K).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layer_norm_kernel(x_ptr, w_ptr, b_ptr, y_ptr, n_cols, row_stride, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * row_stride + cols, mask=mask, other=0.0)
    c = tl.max(tl.abs(x), axis=0)
    s = tl.where(mask, x - c, 0.0)
    m1 = tl.sum(s, axis=0) / n_cols
    m2 = tl.sum(s * s, axis=0) / n_cols
    var = tl.maximum(m2 - m1 * m1, 0.0)
    mean = c + m1
    rstd = 1.0 / tl.sqrt(var + eps)
    w = tl.load(w_ptr + cols, mask=mask)
    b = tl.load(b_ptr + cols, mask=mask)
    tl.store(y_ptr + row * row_stride + cols, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, normalized_shape: int):
        super().__init__()
        self.ln = nn.LayerNorm(normalized_shape, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).contiguous()
        n_rows, n_cols = x2.shape
        y2 = torch.empty_like(x2)
        BLOCK = triton.next_power_of_2(n_cols)
        layer_norm_kernel[(n_rows,)](x2, self.ln.weight, self.ln.bias, y2, n_cols, x2.stride(0), self.ln.eps, BLOCK=BLOCK)
        return y2.view(shape)

