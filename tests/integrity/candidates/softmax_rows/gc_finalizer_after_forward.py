# expect: torch_compute
# red team 2026-12-07 (pass 8): class 4/1: no hook at all: the forward leaves a reference cycle whose __del__ computes the softmax with torch
# into the output's storage, and tunes the collector's allocation count (a forced collection, then a measured
# number of live containers) so the cycle is collected a few hundred allocations after the forward returns:
# inside the worker's own plain_cpu()/torch.save, after the op accountant has closed.
import torch
import torch.nn as nn
import triton
import triton.language as tl

MARGIN = 10
_state = {"hit": 0, "keep": []}


@triton.jit
def fill_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.zeros([BLOCK], dtype=tl.float32), mask=offs < n)


class _Probe:
    def __init__(self):
        self.me = self

    def __del__(self):
        _state["hit"] += 1


class _Job:
    def __init__(self, x, y):
        self.me = self
        self.x, self.y = x, y

    def __del__(self):
        with torch.inference_mode():
            self.y.copy_(torch.softmax(self.x, dim=-1))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        n = x.numel()
        fill_kernel[(triton.cdiv(n, 4096),)](y, n, BLOCK=4096)
        _state["keep"] = None  # frees last call's containers before counting
        keep = []
        _Probe()
        seen = _state["hit"]
        while _state["hit"] == seen:  # allocate until the collector runs once
            keep.append([])
        keep2 = [[] for _ in range(700 - MARGIN)]  # leaves gen0 about MARGIN below its threshold
        _Job(x, y)
        _state["keep"] = (keep, keep2)
        return y
