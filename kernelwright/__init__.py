"""kernelwright: PyTorch reference in, verified fast GPU kernel out."""

__version__ = "0.1.0"
