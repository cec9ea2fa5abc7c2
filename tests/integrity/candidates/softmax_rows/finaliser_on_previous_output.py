# expect: wrong_output
# red team pass 10: a __del__ hung on the previous call's output fixes this call's output with torch when the worker drops it; dropped inside the next accounted call now.
# attempt c01: forward N writes zeros by kernel, hangs an object with __del__ on the PREVIOUS call's output (instance attribute set after that call's check); the worker's `_previous_output[:] = ...` frees it before save_tensors -> __del__ computes torch.softmax into this call's output, unaccounted
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, x_row_stride, y_row_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    y = e / tl.sum(e, axis=0)
    tl.store(y_ptr + row * y_row_stride + cols, y, mask=mask)


@triton.jit
def fill_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.zeros([BLOCK], dtype=tl.float32), mask=offs < n)


class _Job:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __del__(self):
        with torch.inference_mode():
            self.y.copy_(torch.softmax(self.x, dim=-1))
        _state["fixed"] += 1


_state = {"prev": None, "fixed": 0}


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.contiguous()
        n_rows, n_cols = x2.shape
        y = torch.empty_like(x2)
        prev = _state["prev"]
        if prev is None:
            softmax_kernel[(n_rows,)](x2, y, n_cols, x2.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(n_cols))
        else:
            n = y.numel()
            fill_kernel[(triton.cdiv(n, 1024),)](y, n, BLOCK=1024)
            prev.job = _Job(x, y)
        _state["prev"] = y
        return y
