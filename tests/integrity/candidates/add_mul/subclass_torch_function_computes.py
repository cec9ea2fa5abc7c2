# expect: torch_compute
# passes the kernel a tensor subclass whose __torch_function__ computes (a + b) * a into the output when Triton's launch reads its storage.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(a_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(y_ptr + offs, mask=mask), mask=mask)


class Trigger(torch.Tensor):
    job = None

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        job = cls.job if getattr(func, "__name__", "") in ("untyped_storage", "data_ptr", "new_empty") else None
        if job is not None:
            cls.job = None
            a, b, y = job
            y.copy_((a + b) * a)
        return super().__torch_function__(func, types, args, kwargs or {})


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(a)
        n = a.numel()
        Trigger.job = (a, b, y)
        touch_kernel[(triton.cdiv(n, 8192),)](a.as_subclass(Trigger), y, n, BLOCK=8192)
        return y
