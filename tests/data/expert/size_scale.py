"""Sizes of the input used as numbers: a dim other than the last one (read at run time, so a
shape variant of the check changes them too)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x.sum(dim=1) * x.size(0) / x.shape[1] + x.shape[2]


def get_inputs():
    return [torch.randn(4, 24, 40)]


def get_init_inputs():
    return []
