import torch
import torch.nn as nn


class Model(nn.Module):
    """y = x * 127 / max(|x|) per row: the scaling step of symmetric per-token int8 quantisation
    (without the rounding, so the result is a float that tolerances can judge)."""

    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5))


tokens = 8192
hidden = 4096
CPU_SIZES = {"tokens": 64, "hidden": 320}


def get_inputs():
    return [torch.randn(tokens, hidden)]


def get_init_inputs():
    return []
