# expect: global_state
# red team pass 13: a self-removing shape property makes output_description (run after the write, unsnapshotted) report shape [1.5, 2];
# the signed result event does not fit the schema: the parent raises CheckerFailure (a checker crash, not a verdict).
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

        def shape(self_):
            del T.shape
            return [1.5, 2]

        T.shape = property(shape)
        return y
