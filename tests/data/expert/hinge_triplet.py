"""Triplet margin loss plus a hinge loss on signs (two losses reduced to one number)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, margin: float):
        super().__init__()
        self.loss = nn.TripletMarginLoss(margin=margin)

    def forward(self, anchor, positive, negative, predictions, targets):
        hinge = torch.mean(torch.clamp(1 - predictions * targets, min=0))
        return self.loss(anchor, positive, negative) + hinge


batch, dim = 16, 40


def get_inputs():
    signs = torch.randint(0, 2, (batch, 1)).float() * 2 - 1
    return [torch.randn(batch, dim), torch.randn(batch, dim), torch.randn(batch, dim), torch.randn(batch, 1), signs]


def get_init_inputs():
    return [1.0]
