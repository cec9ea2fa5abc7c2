"""LayerNorm over the three trailing dims, and a Frobenius normalisation of the whole tensor."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, shape: tuple):
        super().__init__()
        self.ln = nn.LayerNorm(shape)

    def forward(self, x):
        y = self.ln(x)
        return y / torch.norm(y, p="fro")


batch, channels, height, width = 3, 4, 6, 10


def get_inputs():
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [(channels, height, width)]
