import torch
import torch.nn as nn


class Model(nn.Module):
    """A transformer MLP in bf16: Linear(d -> 4d), GELU, Linear(4d -> d): two matmuls with an
    activation between them."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.up = nn.Linear(dim, hidden, dtype=torch.bfloat16)
        self.act = nn.GELU()
        self.down = nn.Linear(hidden, dim, dtype=torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.act(self.up(x)))


tokens = 4096
dim = 1024
hidden = 4096
CPU_SIZES = {"tokens": 24, "dim": 48, "hidden": 96}


def get_inputs():
    return [torch.randn(tokens, dim, dtype=torch.bfloat16)]


def get_init_inputs():
    return [dim, hidden]
