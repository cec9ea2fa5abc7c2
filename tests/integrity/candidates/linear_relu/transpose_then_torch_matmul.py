# expect: torch_compute
# arithmetic among layout ops: transposes the weight (allowed) but multiplies with torch (mm is compute); the kernel only applies bias and relu.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def bias_relu_kernel(c_ptr, b_ptr, y_ptr, total, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < total
    c = tl.load(c_ptr + offs, mask=mask)
    b = tl.load(b_ptr + offs % N, mask=mask)
    tl.store(y_ptr + offs, tl.maximum(c + b, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.contiguous().mm(self.linear.weight.T).contiguous()
        M, N = c.shape
        y = torch.empty_like(c)
        bias_relu_kernel[(triton.cdiv(M * N, 4096),)](c, self.linear.bias, y, M * N, N, BLOCK=4096)
        return y
