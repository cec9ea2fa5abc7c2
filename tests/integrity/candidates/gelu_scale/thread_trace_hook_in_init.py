# expect: static_violation
# class 6, a second form: the trace hook for threads started later (threading.settrace, no audit
# event) set by ModelNew's constructor, reached through a torch module; with the scan off, the
# construction's global-state snapshot sees it.
import torch.utils.data.dataloader as dl

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    g = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476))
    tl.store(y_ptr + offs, g * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.seen = []
        dl.threading.settrace(self._trace)

    def _trace(self, frame, event, arg):
        self.seen.append(event)  # where a cheat would fix up an output after the call
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        gelu_scale_kernel[(triton.cdiv(n, 4096),)](x, y, n, self.scale, BLOCK=4096)
        return y
