# expect: accepted
# red team 2026-12-06: passes the input to the kernel as its int32 bit pattern (x.view(torch.int32), a free reinterpretation), the kernel bitcasts back to float32, computes gelu*scale+0.5 and stores bits into an int32 buffer viewed as float32.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_bits_kernel(xb_ptr, yb_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(xb_ptr + offs, mask=mask, other=0).to(tl.float32, bitcast=True)
    y = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5
    tl.store(yb_ptr + offs, y.to(tl.int32, bitcast=True), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xb = x.contiguous().view(torch.int32)
        yb = torch.empty(x.shape, dtype=torch.int32, device=x.device)
        n = x.numel()
        gelu_scale_bits_kernel[(triton.cdiv(n, 2048),)](xb, yb, n, self.scale, BLOCK=2048)
        return yb.view(torch.float32)
