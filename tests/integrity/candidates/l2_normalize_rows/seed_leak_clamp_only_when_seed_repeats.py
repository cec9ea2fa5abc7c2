# expect: static_violation
# red team 2026-12-07 (pass 6): cheat (class 1): torch.initial_seed() in forward is the trial's recipe seed (the worker seeds the global generator
# right before making the inputs in this process). A perturbation trial reuses the last plain trial's seed, so the
# kernel takes the reference's max(||x||, eps) clamp only when a seed repeats; everywhere else it divides by the
# raw norm (NaN on any row of zeros outside the checker).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def l2_kernel(x_ptr, y_ptr, n_cols, eps, CLAMP: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    norm = tl.sqrt(tl.sum(x * x, axis=0))
    if CLAMP:
        norm = tl.maximum(norm, eps)
    tl.store(y_ptr + row * n_cols + cols, x / norm, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.seeds = set()

    def forward(self, x):
        seed = torch.initial_seed()
        repeated = seed in self.seeds
        self.seeds.add(seed)
        x = x.contiguous()
        y = torch.empty_like(x)
        l2_kernel[(x.shape[0],)](x, y, x.shape[1], 1e-12, CLAMP=repeated, BLOCK=triton.next_power_of_2(x.shape[1]))
        return y
