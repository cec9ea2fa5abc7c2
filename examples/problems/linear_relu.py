import torch
import torch.nn as nn


class Model(nn.Module):
    """y = relu(x @ W^T + b): a small matmul with a bias-and-activation epilogue, with weights."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


batch_size = 4096
in_features = 4096
out_features = 4096
CPU_SIZES = {"batch_size": 32, "in_features": 96, "out_features": 80}  # the sizes used on the CPU (Triton's interpreter)


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]
