import torch
import torch.nn as nn


class Model(nn.Module):
    """The ResNet-50 stem, fp32, inference mode: conv 7x7 stride 2 (3 -> 64 channels), BatchNorm
    (running statistics), ReLU, max-pool 3x3 stride 2."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        with torch.no_grad():  # running statistics that are not the identity
            self.bn.running_mean.uniform_(-0.2, 0.2)
            self.bn.running_var.uniform_(0.5, 2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.bn(self.conv(x))))


batch_size = 16
channels = 64
image = 224
CPU_SIZES = {"batch_size": 2, "channels": 8, "image": 32}


def get_inputs():
    return [torch.randn(batch_size, 3, image, image)]


def get_init_inputs():
    return [channels]
