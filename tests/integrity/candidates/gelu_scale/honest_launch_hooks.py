# expect: accepted
# honest twin of the launch-machinery cheats: a grid callable, an autotune pre_hook that zeroes the output and heuristics, all doing only bookkeeping.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def _zero_output(nargs):
    nargs["y_ptr"].zero_()


@triton.autotune(
    configs=[triton.Config({"BLOCK": 4096}, pre_hook=_zero_output), triton.Config({"BLOCK": 8192}, pre_hook=_zero_output)],
    key=["n"],
)
@triton.heuristics({"EVEN": lambda args: args["n"] % args["BLOCK"] == 0})
@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr, EVEN: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    g = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476))
    tl.store(y_ptr + offs, g * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        gelu_scale_kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n, self.scale)
        return y
