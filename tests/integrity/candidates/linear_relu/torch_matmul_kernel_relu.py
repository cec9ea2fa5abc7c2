# expect: torch_compute
# torch does the matmul (F.linear); the Triton kernel only applies the relu.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def relu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.maximum(tl.load(x_ptr + offs, mask=mask), 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.nn.functional.linear(x, self.linear.weight, self.linear.bias)
        y = torch.empty_like(t)
        relu_kernel[(triton.cdiv(t.numel(), 4096),)](t, y, t.numel(), BLOCK=4096)
        return y
