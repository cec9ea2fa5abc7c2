# expect: accepted
# red team 2026-12-06: autotuned (two configs) + heuristics-derived BLOCK, a @triton.jit helper doing the exp2-based row softmax, a literal constexpr global (LOG2E) and masked loads with -inf padding.
import torch
import torch.nn as nn
import triton
import triton.language as tl

LOG2E = tl.constexpr(1.4426950408889634)


@triton.jit
def _row_softmax(x):
    m = tl.max(x, axis=0)
    e = tl.exp2((x - m) * LOG2E)
    return e / tl.sum(e, axis=0)


@triton.autotune(configs=[triton.Config({}, num_warps=2), triton.Config({}, num_warps=4)], key=["n_cols"])
@triton.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n_cols"])})
@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, stride_x, stride_y, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=-float("inf"))
    tl.store(y_ptr + row * stride_y + cols, _row_softmax(x), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        y2 = torch.empty_like(x2)
        softmax_kernel[(x2.shape[0],)](x2, y2, x2.shape[1], x2.stride(0), y2.stride(0))
        return y2.view(x.shape)
