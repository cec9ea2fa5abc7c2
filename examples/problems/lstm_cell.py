import torch
import torch.nn as nn


class Model(nn.Module):
    """One LSTM cell step, fp32: gates = x W_ih^T + h W_hh^T + b, then the sigmoid/tanh gate
    arithmetic; returns the tuple (h', c')."""

    def __init__(self, input_size: int, hidden: int):
        super().__init__()
        self.ih = nn.Linear(input_size, 4 * hidden)
        self.hh = nn.Linear(hidden, 4 * hidden, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        i, f, g, o = (self.ih(x) + self.hh(h)).chunk(4, dim=-1)
        c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_next = torch.sigmoid(o) * torch.tanh(c_next)
        return h_next, c_next


batch_size = 2048
input_size = 1024
hidden = 1024
CPU_SIZES = {"batch_size": 16, "input_size": 40, "hidden": 32}


def get_inputs():
    return [torch.randn(batch_size, input_size), torch.randn(batch_size, hidden), torch.randn(batch_size, hidden)]


def get_init_inputs():
    return [input_size, hidden]
