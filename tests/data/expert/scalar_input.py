"""A Python float among the inputs (a scalar operand passed to the kernel)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, a, s: float):
        return a * s - s


rows, cols = 30, 70


def get_inputs():
    return [torch.rand(rows, cols), 3.14]


def get_init_inputs():
    return []
