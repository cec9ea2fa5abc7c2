import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    """A long elementwise chain over two inputs, a last-dim weight vector and a scalar parameter:
    module, functional and method forms of most activations the expert codegen knows."""

    def __init__(self, dim: int):
        super().__init__()
        self.w = nn.Parameter(torch.randn(dim))
        self.s = nn.Parameter(torch.tensor(0.75))
        self.act = nn.GELU(approximate="tanh")
        self.elu = nn.ELU(alpha=0.8)
        self.hard = nn.Hardtanh(-2.0, 2.0)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = (a - 0.5 * b) * self.w + self.s
        y = F.gelu(x) + self.act(b) - torch.tanh(x) * torch.sigmoid(b)
        y = y + F.silu(a) * 0.25 + F.softplus(x, beta=2.0) - self.elu(b) + F.leaky_relu(a, 0.2)
        y = self.hard(y) + torch.clamp(b, min=-0.5, max=0.5) + torch.exp(-x.abs()) + torch.sqrt(b * b + 1.0)
        y = y + torch.rsqrt(a.pow(2) + 2.0) + torch.log(1.0 + a * a) - x.neg().relu() / 3.0 + F.relu6(b) + F.mish(a)
        return y + F.hardswish(a) + torch.nn.functional.selu(b) + F.logsigmoid(a) + (2.0 - a) ** 2 + a.pow(3) * 0.1


batch_size = 16
dim = 200


def get_inputs():
    return [torch.randn(batch_size, dim), torch.randn(batch_size, dim)]


def get_init_inputs():
    return [dim]
