import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """Several last-dim reductions with prologue and epilogue in one graph: x minus the row max,
    log-softmax, an unbiased variance, a row minimum, L2 normalisation and an RMS norm."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.RMSNorm(dim, eps=1e-6)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shifted = x - x.max(dim=-1, keepdim=True)[0]
        y = torch.log_softmax(x * 1.5, dim=-1) + shifted * 0.1
        y = y + x.var(dim=-1, keepdim=True) + torch.amin(x, dim=-1, keepdim=True) + F.normalize(x, dim=-1)
        return self.norm(y) + nn.functional.softmax(x, dim=1)


batch_size = 12
dim = 300


def get_inputs():
    return [torch.randn(batch_size, dim) * 2.0]


def get_init_inputs():
    return [dim]
