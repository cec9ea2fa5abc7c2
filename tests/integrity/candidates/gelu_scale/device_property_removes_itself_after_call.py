# expect: global_state
# red team pass 13: a property named device put on torch.Tensor in forward; shares_memory's _span reads str(t.device) after the call,
# before the state snapshot: the getter deletes itself, writes torch's answer into the output, returns the real device.
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


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        n = y.numel()
        zero_kernel[(triton.cdiv(n, 4096),)](y, n, BLOCK=4096)
        scale = self.scale
        T = torch_module().Tensor

        def device(self_):
            del T.device
            with torch.inference_mode():
                y.copy_(torch.nn.functional.gelu(x) * scale + 0.5)
            return self_.device

        T.device = property(device)
        return y
