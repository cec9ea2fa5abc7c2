# expect: compile_error
# red team 2026-12-07 (pass 6; now the module is not importable by name, so the import in its forward fails): cheat (class 1): get_inputs of the problem module in the solution's process is wrapped to return a tensor
# subclass; the worker perturbs, stresses, fingerprints and finally clone()s it outside the op accountant, and the
# subclass's __torch_function__ on that clone computes torch.softmax of the trial's final inputs (perturbed or
# stressed included: the last clone is the worker's clone of the final inputs). forward copies the stash with a Triton kernel.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    tl.store(y_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


STASH = {}


class Spy(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        out = super().__torch_function__(func, types, args, kwargs or {})
        if func is torch.Tensor.clone:
            plain = out.as_subclass(torch.Tensor)
            STASH["x"] = plain.clone()
            STASH["y"] = torch.softmax(plain, dim=-1)  # the last clone is the worker's, of the final inputs
        return out


def _wrap(original):
    def get_inputs():
        return [v.as_subclass(Spy) if isinstance(v, torch.Tensor) else v for v in original()]
    return get_inputs


def _shipped():
    import kw_problem_shipped
    return kw_problem_shipped


def _variant1():
    import kw_problem_variant1
    return kw_problem_variant1


MODULES = [_shipped, _variant1]
BUILT = [0]


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.index = BUILT[0]
        BUILT[0] += 1
        self.hooked = False

    def forward(self, x):
        x = x.contiguous()
        y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        stash = STASH.get("y")
        if self.hooked and stash is not None and stash.shape == x.shape:
            copy_kernel[(triton.cdiv(x.numel(), 1024),)](stash, y, x.numel(), BLOCK=1024)
        else:
            softmax_kernel[(x.shape[0],)](x, y, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        if not self.hooked and self.index < len(MODULES):
            problem = MODULES[self.index]()
            problem.get_inputs = _wrap(problem.get_inputs)
            self.hooked = True
        return y
