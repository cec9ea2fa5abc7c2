import torch
import torch.nn as nn


class Model(nn.Module):
    """softmax(leaky_relu(x) * scale, dim=self.dim): a scale, a dim and a submodule's slope, all
    from the constructor's arguments."""

    def __init__(self, dim: int, slope: float, scale: float):
        super().__init__()
        self.dim = dim
        self.scale = scale
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.act(x) * self.scale, dim=self.dim)


batch = 4
rows = 16
cols = 40


def get_inputs():
    return [torch.randn(batch, rows, cols)]


def get_init_inputs():
    return [2, 0.1, 0.5]
