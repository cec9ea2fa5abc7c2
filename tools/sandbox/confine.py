"""Confine a worker forked inside the warm sandbox to its own job: Landlock, applied in the child.

Workers forked from one zygote share its bubblewrap sandbox (its mounts and PID namespace). Each
one then restricts itself, before any job code runs and irrevocably, with Landlock (the kernel's
unprivileged access-control module; the `landlock` package drives its file-system rules):

- it may read and execute only what every sandboxed child may (the system, Python and package
  folders of `mounts`), read its job's readable folders, and write only its own folders: not the
  zygote's other jobs, their homes, their reference outputs, nor the sandbox's shared /tmp;
- it may not ptrace, read the memory or /proc environment of, or (ABI 6+) signal any process
  outside its own Landlock domain, nor reach abstract Unix sockets outside it: not the zygote, not
  a sibling worker.

Where the kernel has no Landlock (ABI < 1) the warm sandbox is not used at all (`warm.available`).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable
from pathlib import Path

import landlock

# Landlock's scoping (ABI 6): the `landlock` package handles file-system rules only, so the
# scoped-rights layer is created here with the raw system calls (x86-64 and arm64 numbers).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_RESTRICT_SELF = 446
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
READ = landlock.FSAccess.READ_FILE | landlock.FSAccess.READ_DIR | landlock.FSAccess.EXECUTE


class _ScopedRuleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


def abi() -> int:
    try:
        return landlock.landlock_abi_version()
    except Exception:  # noqa: BLE001 - no Landlock in this kernel (or not Linux)
        return 0


def _allow(ruleset: landlock.Ruleset, paths: Iterable[Path], rules: landlock.FSAccess) -> None:
    for path in paths:
        p = Path(path)
        if p.exists():
            # A rule on a file may carry file rights only (the kernel refuses directory rights there).
            ruleset.allow(str(p), rules=rules if p.is_dir() else rules & landlock.FSAccess.all_file())


def _device_rules() -> landlock.FSAccess:
    rules = READ | landlock.FSAccess.WRITE_FILE
    if abi() >= 5:
        rules |= landlock.FSAccess.IOCTL_DEV  # the GPU driver is driven by ioctls on its device nodes
    return rules


def confine(readable: Iterable[Path], writable: Iterable[Path], devices: Iterable[str]) -> None:
    """Restrict this process (and its future children) to `readable` (read, execute) and
    `writable` (everything) beneath those paths, plus the listed device nodes and /dev/null etc.;
    then scope signals and abstract sockets to itself. Raises if the kernel refuses."""
    ruleset = landlock.Ruleset()
    _allow(ruleset, readable, READ)
    _allow(ruleset, writable, landlock.FSAccess.all())
    _allow(ruleset, [Path(d) for d in devices] + [Path(p) for p in ("/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                                                    "/dev/urandom", "/dev/tty")], _device_rules())
    ruleset.apply()
    if abi() >= 6:
        _scope(SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET)


def _scope(scoped: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _ScopedRuleset(0, 0, scoped)
    fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset (scoped) failed")
    try:
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self (scoped) failed")
    finally:
        os.close(fd)
