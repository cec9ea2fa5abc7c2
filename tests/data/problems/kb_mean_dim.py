import torch
import torch.nn as nn


class Model(nn.Module):
    """Mean over one dimension, shaped like KernelBench's level-1 reductions: the dimension is a
    literal that get_init_inputs returns."""

    def __init__(self, dim: int):
        super(Model, self).__init__()  # noqa: UP008 - as KernelBench writes it
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.mean(x, dim=self.dim)


batch_size = 4
dim1 = 24
dim2 = 20


def get_inputs():
    x = torch.rand(batch_size, dim1, dim2)
    return [x]


def get_init_inputs():
    return [1]
