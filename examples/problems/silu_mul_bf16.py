import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """y = silu(gate) * up in bf16: the SwiGLU gate of a LLaMA-style MLP, two inputs."""

    def __init__(self):
        super().__init__()

    def forward(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        return F.silu(gate) * up


tokens = 2048
intermediate = 11008
CPU_SIZES = {"tokens": 32, "intermediate": 688}


def get_inputs():
    return [
        torch.randn(tokens, intermediate, dtype=torch.bfloat16),
        torch.randn(tokens, intermediate, dtype=torch.bfloat16),
    ]


def get_init_inputs():
    return []
