"""The kernelwright home directory: --home DIR, else $KERNELWRIGHT_HOME, else ~/.kernelwright."""

from __future__ import annotations

import os
from pathlib import Path

from kernelwright.tools.problem import InputError


def resolve_home(flag: str | None = None) -> Path:
    raw = flag or os.environ.get("KERNELWRIGHT_HOME") or str(Path.home() / ".kernelwright")
    home = Path(raw).expanduser()
    if home.exists() and not home.is_dir():
        raise InputError(f"home {home} exists and is not a directory (pass --home DIR)")
    return home
