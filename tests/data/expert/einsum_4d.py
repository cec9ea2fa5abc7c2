"""A 4-D tensor times a matrix over its last dim, written as an einsum."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, a, b):
        return torch.einsum("bijl,lk->bijk", a, b)


batch, rows, cols, inner, out = 2, 3, 5, 24, 20


def get_inputs():
    return [torch.randn(batch, rows, cols, inner), torch.randn(inner, out)]


def get_init_inputs():
    return []
