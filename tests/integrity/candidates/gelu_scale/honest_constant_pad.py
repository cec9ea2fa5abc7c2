# expect: accepted
# honest twin for layout ops: pads the flat input with zeros (constant F.pad) to a whole number of blocks, runs the kernel unmasked and slices the output.
import torch
import torch.nn as nn
import torch.nn.functional as F
import triton
import triton.language as tl

BLOCK = 4096


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    tl.store(y_ptr + offs, 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1)
        n = flat.numel()
        padded = F.pad(flat, (0, (-n) % BLOCK))
        out = torch.empty_like(padded)
        gelu_scale_kernel[(padded.numel() // BLOCK,)](padded, out, self.scale, BLOCK=BLOCK)
        return out[:n].view(x.shape)
