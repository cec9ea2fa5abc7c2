"""The configuration: its schema (`model.Config`, where every default lives) and how the effective
config of a run is put together from defaults, environment, a YAML file and flags (`resolve`)."""

from __future__ import annotations

from pathlib import Path

from kernelwright.configs.model import Config
from kernelwright.configs.resolve import (
    RawConfig,
    ResolvedConfig,
    default_config,
    load,
    merge,
    read_config_file,
    validate,
)

__all__ = ["Config", "RawConfig", "ResolvedConfig", "default_config", "load", "load_config", "merge", "read_config_file", "validate"]


def load_config(path: str | Path | None) -> RawConfig:
    """The defaults with the YAML file at `path` (if any) over them, validated, as a plain mapping."""
    return load(path, environ={}).as_dict()
