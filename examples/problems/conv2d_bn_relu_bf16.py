import torch
import torch.nn as nn


class Model(nn.Module):
    """y = relu(batchnorm(conv2d(x))) in bf16, BatchNorm in inference mode (running statistics),
    the conv without bias: the block that inference compilers fold into one kernel."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=torch.bfloat16)
        self.bn = nn.BatchNorm2d(channels, dtype=torch.bfloat16)
        with torch.no_grad():  # running statistics that are not the identity
            self.bn.running_mean.uniform_(-0.2, 0.2)
            self.bn.running_var.uniform_(0.5, 2.0)
            self.bn.weight.uniform_(0.5, 1.5)
            self.bn.bias.uniform_(-0.5, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.bn(self.conv(x)))


batch_size = 32
channels = 128
height = 28
width = 28
CPU_SIZES = {"batch_size": 2, "channels": 16, "height": 10, "width": 10}


def get_inputs():
    return [torch.randn(batch_size, channels, height, width, dtype=torch.bfloat16)]


def get_init_inputs():
    return [channels]
