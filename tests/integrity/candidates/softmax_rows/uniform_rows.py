# expect: wrong_output
# tolerance exploit: writes 1/n_cols everywhere (the mean of a softmax row) from a real kernel.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def fill_kernel(y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    tl.store(y_ptr + row * n_cols + cols, tl.full((BLOCK,), 1.0, tl.float32) / n_cols, mask=cols < n_cols)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n_rows, n_cols = x.shape
        y = torch.empty_like(x)
        fill_kernel[(n_rows,)](y, n_cols, BLOCK=triton.next_power_of_2(n_cols))
        return y
