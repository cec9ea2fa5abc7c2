# expect: wrong_output
# memoisation on the device: the kernel compares two sampled inputs with the last call's and copies its stored rows when they match.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def memo_softmax_kernel(x_ptr, y_ptr, key_ptr, cache_ptr, n_cols, n_rows, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    first = tl.load(x_ptr)
    last = tl.load(x_ptr + n_rows * n_cols - 1)
    hit = (first == tl.load(key_ptr)) & (last == tl.load(key_ptr + 1))
    if hit:
        y = tl.load(cache_ptr + row * n_cols + cols, mask=mask)
    else:
        x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
        e = tl.exp(x - tl.max(x, axis=0))
        y = e / tl.sum(e, axis=0)
        tl.store(cache_ptr + row * n_cols + cols, y, mask=mask)
    tl.store(y_ptr + row * n_cols + cols, y, mask=mask)


@triton.jit
def remember_key_kernel(x_ptr, key_ptr, n):
    tl.store(key_ptr, tl.load(x_ptr))
    tl.store(key_ptr + 1, tl.load(x_ptr + n - 1))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.key = None
        self.cache = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        if self.cache is None or self.cache.shape != x.shape:
            self.cache = torch.zeros_like(x)
            self.key = torch.full((2,), float("nan"), device=x.device)
        y = torch.empty_like(x)
        n_rows, n_cols = x.shape
        memo_softmax_kernel[(n_rows,)](x, y, self.key, self.cache, n_cols, n_rows, BLOCK=triton.next_power_of_2(n_cols))
        remember_key_kernel[(1,)](x, self.key, x.numel())
        return y
