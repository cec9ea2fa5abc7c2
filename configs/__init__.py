"""Default configuration (package data) and the merge of user config files over it."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kernelwright.tools.problem import InputError


def default_config() -> dict[str, Any]:
    text = resources.files("kernelwright.configs").joinpath("default.yaml").read_text()
    return yaml.safe_load(text)


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Nested dicts merge key by key; anything else in `over` replaces."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | Path | None) -> dict[str, Any]:
    """The defaults, merged with the YAML file at `path` if given."""
    config = default_config()
    if path is None:
        return config
    p = Path(path)
    if not p.is_file():
        raise InputError(f"config file not found: {p}")
    try:
        user = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"config file {p} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(user, dict):
        raise InputError(f"config file {p} must hold a mapping at the top level")
    unknown = sorted(set(user) - set(config))
    if unknown:
        raise InputError(f"config file {p}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(config))})")
    return merge(config, user)
