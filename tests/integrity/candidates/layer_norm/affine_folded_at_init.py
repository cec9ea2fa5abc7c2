# expect: wrong_output
# snapshot: packs weight and bias into one buffer in __init__ (a plain tensor) and never reads the parameters again.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layer_norm_kernel(x_ptr, wb_ptr, y_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    mean = tl.sum(x, axis=0) / n_cols
    d = tl.where(mask, x - mean, 0.0)
    rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / n_cols + eps)
    w = tl.load(wb_ptr + cols, mask=mask)
    b = tl.load(wb_ptr + n_cols + cols, mask=mask)
    tl.store(y_ptr + row * n_cols + cols, d * rstd * w + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, normalized_shape: int):
        super().__init__()
        self.ln = nn.LayerNorm(normalized_shape, eps=1e-5)
        with torch.no_grad():  # the reference's initialisation, so the seeded construction matches
            self.ln.weight.uniform_(0.5, 1.5)
            self.ln.bias.uniform_(-0.5, 0.5)
        self.packed = torch.cat([self.ln.weight.detach(), self.ln.bias.detach()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        packed = self.packed.to(x.device)
        layer_norm_kernel[(x.shape[0],)](x, packed, y, x.shape[1], 1e-5, BLOCK=triton.next_power_of_2(x.shape[1]))
        return y
