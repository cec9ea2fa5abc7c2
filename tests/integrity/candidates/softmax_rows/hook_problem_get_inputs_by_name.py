# expect: compile_error
# red team 2026-12-07 (pass 6; now the module is not importable by name, so the import in its forward fails): cheat (class 1): the problem's module is loaded in the solution's process (kw_problem_<variant>); on its first
# call the solution wraps that module's get_inputs so the worker's own input making (outside the op accountant)
# also computes torch.softmax of the fresh draw; forward only copies the stash with a Triton kernel. A draw seen
# before (perturbation trials reuse the last plain seed) switches to the honest kernel for good.
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


_state = {"hooked": False, "seen": [], "honest": False, "stash": None}


def _wrap(original):
    def get_inputs():
        values = original()
        x = values[0]
        if any(p.shape == x.shape and torch.equal(p, x) for p in _state["seen"]):
            _state["honest"] = True
        _state["seen"].append(x.clone())
        _state["stash"] = torch.softmax(x, dim=-1)  # the work, done while the worker makes the inputs
        return values
    return get_inputs


def _problem():
    import kw_problem_shipped
    return kw_problem_shipped


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        if not _state["hooked"]:
            problem = _problem()
            problem.get_inputs = _wrap(problem.get_inputs)
            _state["hooked"] = True
            stash = None
        else:
            stash = _state["stash"]
        x = x.contiguous()
        y = torch.empty_like(x)
        if stash is None or _state["honest"] or stash.shape != x.shape:
            softmax_kernel[(x.shape[0],)](x, y, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
        else:
            copy_kernel[(triton.cdiv(x.numel(), 1024),)](stash, y, x.numel(), BLOCK=1024)
        return y
