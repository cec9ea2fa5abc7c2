# expect: global_state
# red team pass 14: like b, but `with` binds __exit__ when the block is entered, so a replacement made inside
# the forward misses the current call. Replaced at import instead, and never restored: every checked
# call's grad mode (inference_mode / no_grad / enable_grad, one per case) exits through the hook
# AFTER the accountant's exit; the hook writes torch's answer into the output the forward registered.
# The classes' dicts are not sealed (only their names in `torch`), nothing in the snapshot reads them.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def torch_module():
    return torch


@triton.jit
def zero_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.zeros((BLOCK,), dtype=tl.float32), mask=offs < n)


_pending = []


def _make(original):
    def leave(ctx, *exc):
        result = original(ctx, *exc)
        if _pending:
            x, y, scale = _pending.pop()
            _pending.clear()
            with torch.inference_mode():
                y.copy_(torch.nn.functional.gelu(x) * scale + 0.5)
        return result
    return leave


_t = torch_module()
for _c in (_t.inference_mode, _t.no_grad, _t.enable_grad):
    _c.__exit__ = _make(_c.__exit__)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        n = y.numel()
        zero_kernel[(triton.cdiv(n, 4096),)](y, n, BLOCK=4096)
        _pending.clear()
        _pending.append((x, y, self.scale))
        return y
