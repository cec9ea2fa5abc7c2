"""The kernelwright home directory: --home DIR, else $KERNELWRIGHT_HOME, else ~/.kernelwright."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kernelwright.tools.problem import InputError

FIX = "pass --home DIR or set KERNELWRIGHT_HOME to a folder you can write"


def resolve_home(flag: str | None = None) -> Path:
    raw = flag or os.environ.get("KERNELWRIGHT_HOME") or str(Path.home() / ".kernelwright")
    home = Path(raw).expanduser()
    if home.exists() and not home.is_dir():
        raise InputError(f"home {home} exists and is not a directory ({FIX})")
    return home


def require_writable(home: Path) -> None:
    """InputError unless files can be created in `home` (or, if it does not exist yet, in the folder
    it would be made in). Tried by creating and removing a file, since permission bits do not tell
    a read-only file system, and root ignores them; nothing is left behind."""
    target = home
    while not target.exists():
        if target.parent == target:
            break
        target = target.parent
    if not target.is_dir():
        raise InputError(f"home {home} cannot be created: {target} is not a directory ({FIX})")
    try:
        fd, probe = tempfile.mkstemp(prefix=".kw-write-probe-", dir=target)
    except OSError as exc:
        what = "home" if target == home else f"home {home} cannot be created: its parent"
        raise InputError(f"{what} {target} is not writable ({exc.strerror}); {FIX}") from None
    os.close(fd)
    os.unlink(probe)
