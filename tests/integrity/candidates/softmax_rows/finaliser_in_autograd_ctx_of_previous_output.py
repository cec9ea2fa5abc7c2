# expect: wrong_output
# red team pass 10: no tensor attribute: the holder sits in an autograd.Function ctx on the previous output's grad_fn.
# attempt c07: no tensor carries an attribute: under enable_grad the output is made by a torch.autograd.Function whose ctx holds a holder object with __del__; at the next call the holder gets (x, y) and the kernel writes zeros; when the worker drops the previous output (`_previous_output[:] = ...`, before save_tensors) its grad_fn/ctx dies and __del__ computes torch.softmax into this call's output
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


class Holder:
    def __init__(self):
        self.job = None

    def __del__(self):
        if self.job is not None:
            x, y = self.job
            with torch.inference_mode():
                y.copy_(torch.softmax(x, dim=-1))


class Tag(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y, w):
        ctx.holder = state["holder"]
        return y.view_as(y)

    @staticmethod
    def backward(ctx, g):
        return g, None


state = {"holder": None}


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.contiguous()
        n_rows, n_cols = x2.shape
        y = torch.empty_like(x2)
        holder = state["holder"]
        if holder is None:
            softmax_kernel[(n_rows,)](x2, y, n_cols, x2.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(n_cols))
        else:
            n = y.numel()
            fill_kernel[(triton.cdiv(n, 1024),)](y, n, BLOCK=1024)
            holder.job = (x, y)
        state["holder"] = None
        if torch.is_grad_enabled():
            state["holder"] = Holder()
            w = torch.zeros(1, requires_grad=True)
            y = Tag.apply(y, w)
        return y
