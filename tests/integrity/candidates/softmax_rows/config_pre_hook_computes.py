# expect: torch_compute
# an autotune Config's pre_hook computes the softmax with torch just before each launch; the kernel copies it.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def _fill(nargs):
    nargs["y_ptr"].copy_(torch.softmax(nargs["x_ptr"], dim=-1))


@triton.autotune(configs=[triton.Config({"BLOCK": 512}, pre_hook=_fill)], key=["n_cols"])
@triton.jit
def copy_rows_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    tl.store(y_ptr + row * n_cols + cols, tl.load(y_ptr + row * n_cols + cols, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        copy_rows_kernel[(x.shape[0],)](x, y, x.shape[1])
        return y
