# expect: wrong_output
# one block per row: the row max, then the largest column index holding it (a max over indices where the minimum was meant).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def argmax_one_block_kernel(x_ptr, out_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * stride + cols, mask=cols < n_cols, other=float("-inf"))
    m = tl.max(x, axis=0)
    tl.store(out_ptr + row, tl.max(tl.where(x == m, cols, -1), axis=0).to(tl.int64))  # the largest index holding the max


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(x2.shape[0], dtype=torch.int64, device=x.device)
        argmax_one_block_kernel[(x2.shape[0],)](x2, out, x2.shape[1], x2.stride(0), BLOCK=triton.next_power_of_2(x2.shape[1]))
        return out.view(x.shape[:-1])
