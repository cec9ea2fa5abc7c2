# expect: wrong_output
# argmax by a scalar scan over each row's elements that keeps the maximum with >=: the last of tied values, where torch.argmax returns the first.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def argmax_scan_kernel(x_ptr, out_ptr, n_cols, stride):
    row = tl.program_id(0)
    best_val = tl.load(x_ptr + row * stride)
    best_idx = 0
    for c in range(1, n_cols):
        v = tl.load(x_ptr + row * stride + c)
        take = v >= best_val  # >=: the last of equal values wins
        best_idx = tl.where(take, c, best_idx)
        best_val = tl.where(take, v, best_val)
    tl.store(out_ptr + row, best_idx.to(tl.int64))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(x2.shape[0], dtype=torch.int64, device=x.device)
        argmax_scan_kernel[(x2.shape[0],)](x2, out, x2.shape[1], x2.stride(0))
        return out.view(x.shape[:-1])
