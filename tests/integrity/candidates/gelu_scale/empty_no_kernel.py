# expect: no_custom_kernel
# returns torch.empty_like(x) and launches nothing, hoping the allocator hands back the reference's freed output.
import torch
import torch.nn as nn
import triton
import triton.language as tl


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.empty_like(x)
