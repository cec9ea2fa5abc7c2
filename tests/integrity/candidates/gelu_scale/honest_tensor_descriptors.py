# expect: accepted
# honest twin for the descriptor bounds guard: device-side tensor descriptors over the input and the output, the last block partly outside the tensor (the descriptor masks it).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    start = tl.program_id(0) * BLOCK
    x_desc = tl.make_tensor_descriptor(x_ptr, shape=[n], strides=[1], block_shape=[BLOCK])
    y_desc = tl.make_tensor_descriptor(y_ptr, shape=[n], strides=[1], block_shape=[BLOCK])
    x = x_desc.load([start])
    y_desc.store([start], 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        gelu_scale_kernel[(triton.cdiv(n, 4096),)](x, y, n, self.scale, BLOCK=4096)
        return y
