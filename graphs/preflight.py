"""The checks a run makes before it writes anything, kept light: `kernelwright run` calls
`check_new_run` before it imports LangGraph, LangChain or torch, so bad input is refused in about
the time Python and pydantic take to start, not the stack's import time."""

from __future__ import annotations

from pathlib import Path

from kernelwright.configs import Config, RawConfig, load
from kernelwright.tools.home import require_writable
from kernelwright.tools.problem import InputError, load_problem


def require_device(device: str) -> None:
    """`cuda[:N]` needs a visible CUDA GPU: no NVIDIA control device means none, without importing torch."""
    if device in ("auto", "cpu"):
        return
    from kernelwright.tools.sandbox.support import gpu_visible

    if device.startswith("cuda") and not gpu_visible():
        raise InputError(f"--device {device}: no CUDA GPU is visible here (use --device cpu or auto)")
    from kernelwright.tools.devices import resolve_device

    resolve_device(device)  # the index against the GPUs torch sees


def check_new_run(home: Path, config_path: str | None, overrides: RawConfig, problem: str | None) -> Config:
    """The home, the config, the problem file and the device of a new run (InputError if any is bad)."""
    require_writable(home)
    config = load(config_path, overrides).config
    if problem:
        load_problem(problem)
    require_device(config.check.device)
    return config


def preflight(config: Config, probe: bool) -> None:
    """What a run needs from this machine, checked before anything is written: the device it asks
    for, and (`probe`: the built-in LLM roles with the configured client) a listening endpoint."""
    require_device(config.check.device)
    if probe:
        if not config.model:
            raise InputError("the llm policy needs a model: pass --model NAME or set KERNELWRIGHT_MODEL")
        from kernelwright.agents.endpoint import probe_endpoint

        probe_endpoint(config.base_url)
