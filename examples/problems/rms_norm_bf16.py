import torch
import torch.nn as nn


class Model(nn.Module):
    """LLaMA's RMSNorm in bf16: the mean of squares is taken in fp32, the result cast back to
    bf16 and scaled by a bf16 weight."""

    def __init__(self, hidden: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter((torch.rand(hidden) + 0.5).to(torch.bfloat16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


tokens = 4096
hidden = 4096
CPU_SIZES = {"tokens": 32, "hidden": 512}


def get_inputs():
    return [torch.randn(tokens, hidden, dtype=torch.bfloat16)]


def get_init_inputs():
    return [hidden]
