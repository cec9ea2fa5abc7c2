# expect: static_violation
# red team 2026-12-07 (pass 6; now the module is not importable by name, so the import in its forward fails): cheat (class 1): get_inputs of the problem module in this process is wrapped to keep a handle on the tensors
# it returns, which (plain trials) are the worker's `originals`; forward computes softmax in place into its input
# and returns it, and writes the same values into the original, so the bitwise "inputs unchanged" comparison of
# originals against call inputs sees no change. Only until a trial seed repeats (perturbation trials copy the
# inputs, so the handle is no longer the original).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, z_ptr, n_cols, ALSO: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    y = e / tl.sum(e, axis=0)
    tl.store(y_ptr + row * n_cols + cols, y, mask=mask)
    if ALSO:
        tl.store(z_ptr + row * n_cols + cols, y, mask=mask)


HELD = {}


def _wrap(original):
    def get_inputs():
        values = original()
        HELD["x"] = values[0]
        return values
    return get_inputs


def _problem():
    import kw_problem_shipped
    return kw_problem_shipped


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.hooked = False
        self.seeds = set()
        self.safe = True

    def forward(self, x):
        held = HELD.pop("x", None)
        seed = torch.initial_seed()  # a repeated seed: perturbation trials (their inputs are copies) and after
        self.safe = self.safe and seed not in self.seeds
        self.seeds.add(seed)
        if not self.hooked:
            problem = _problem()
            problem.get_inputs = _wrap(problem.get_inputs)
            self.hooked = True
        n = x.shape[1]
        if self.safe and held is not None and held.shape == x.shape and x.is_contiguous():
            softmax_kernel[(x.shape[0],)](x, x, held, n, ALSO=True, BLOCK=triton.next_power_of_2(n))
            return x
        y = torch.empty_like(x)
        softmax_kernel[(x.shape[0],)](x.contiguous(), y, y, n, ALSO=False, BLOCK=triton.next_power_of_2(n))
        return y
