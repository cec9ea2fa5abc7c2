# expect: static_violation
# reaches frames through getattr with constant names (a context manager that swallows its own exception yields the traceback) and clears the checker's op count; torch computes, a kernel copies.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class KeepTraceback:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        self.tb = tb
        return True


def clear_op_count():
    with KeepTraceback() as caught:
        raise LookupError
    frame = getattr(caught.tb, "tb_frame")
    while frame is not None:
        found = getattr(frame, "f_locals")
        if "accountant" in found:
            found["accountant"].compute_ops.clear()
        frame = getattr(frame, "f_back")


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.nn.functional.gelu(x) * self.scale + 0.5
        y = torch.empty_like(t)
        copy_kernel[(triton.cdiv(t.numel(), 4096),)](t, y, t.numel(), BLOCK=4096)
        clear_op_count()
        return y
