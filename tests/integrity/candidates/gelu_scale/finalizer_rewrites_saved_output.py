# expect: static_violation
# launches its kernel on one element; a finaliser on the returned tensor, run once the worker has saved and let go of it, rewrites the saved file with torch's result.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5, mask=mask)


BUILT = []  # one ModelNew per variant, in the checker's order: shipped, then variant1


class RewriteWhenFreed:
    """Runs after the checker saved the lazy output: no dispatch mode is active any more."""

    def __init__(self, x: torch.Tensor, scale: float, saved_as: str):
        self.x, self.scale, self.saved_as = x, scale, saved_as

    def __del__(self):
        torch.save(torch.nn.functional.gelu(self.x) * self.scale + 0.5, self.saved_as)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.variant = "shipped" if not BUILT else f"variant{len(BUILT)}"
        self.calls = 0
        BUILT.append(self.variant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        gelu_scale_kernel[(1,)](x, y, 1, self.scale, BLOCK=16)
        # The worker's folder is the process's working directory; its outputs go to out/.
        y.rewrite = RewriteWhenFreed(x, self.scale, f"out/out_{self.variant}-{self.calls}.pt")
        self.calls += 1
        return y
