"""Which device a check runs on, and the facts about it that results must record."""

from __future__ import annotations

import platform

from kernelwright.tools.problem import InputError


def resolve_device(requested: str) -> str:
    """'auto' -> 'cuda:0' when a CUDA GPU is visible, else 'cpu'; validates 'cuda[:N]'."""
    import torch

    if requested == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested == "cuda" or requested.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"--device {requested}: no CUDA GPU is visible here (use --device cpu or auto)")
        index = int(requested.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise InputError(f"--device {requested}: only {torch.cuda.device_count()} CUDA device(s) here")
        return f"cuda:{index}"
    raise InputError(f"--device {requested}: expected auto, cpu, cuda or cuda:N")


def versions() -> dict[str, str]:
    """Toolchain facts recorded with every result (no CUDA initialisation in the caller)."""
    import torch

    from kernelwright import __version__

    info = {
        "kernelwright": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:  # pragma: no cover
        info["triton"] = "missing"
    return info


def gpu_facts(device: str) -> dict[str, str]:
    """Name, architecture, CUDA and driver of a GPU; called inside a worker, which owns the GPU."""
    import torch

    info: dict[str, str] = {}
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        info["gpu"] = props.name
        info["cuda"] = str(torch.version.cuda)
        info["sm"] = f"sm_{props.major}{props.minor}"
        info["gpu_memory"] = str(props.total_memory)  # bytes: what the timing pool is sized against
        try:
            import subprocess

            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=10,
            ).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            info["driver"] = "unknown"
    return info
