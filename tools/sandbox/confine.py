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

# The `landlock` package knows the access flags and the ABI, but creates rulesets without the
# `scoped` field (ABI 6), so the ruleset is made here with the raw system calls (x86-64 and arm64
# share these numbers).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
READ = landlock.FSAccess.READ_FILE | landlock.FSAccess.READ_DIR | landlock.FSAccess.EXECUTE
# Withheld even in a job's own folders: nothing a job runs makes FIFOs or device nodes, and a
# FIFO put where the checker reads a file would block its reader (`os.mkfifo` and `os.mknod`
# raise no audit event, so below the static scan only the kernel can refuse them).
NO_NODES = landlock.FSAccess.MAKE_FIFO | landlock.FSAccess.MAKE_CHAR | landlock.FSAccess.MAKE_BLOCK


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct landlock_path_beneath_attr is packed
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _ScopedRuleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


def abi() -> int:
    try:
        return landlock.landlock_abi_version()
    except Exception:  # noqa: BLE001 - no Landlock in this kernel (or not Linux)
        return 0


def _allow(ruleset_fd: int, paths: Iterable[Path], rules: landlock.FSAccess) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for path in paths:
        p = Path(path)
        if not p.exists():
            continue
        # A rule on a file may carry file rights only (the kernel refuses directory rights there).
        granted = rules if p.is_dir() else rules & landlock.FSAccess.all_file()
        fd = os.open(p, os.O_PATH)
        try:
            rule = PathBeneathAttr(int(granted), fd)
            if libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {p}")
        finally:
            os.close(fd)


def _device_rules() -> landlock.FSAccess:
    rules = READ | landlock.FSAccess.WRITE_FILE
    if abi() >= 5:
        rules |= landlock.FSAccess.IOCTL_DEV  # the GPU driver is driven by ioctls on its device nodes
    return rules


def confine(readable: Iterable[Path], writable: Iterable[Path], devices: Iterable[str]) -> None:
    """Restrict this process (and its future children) to `readable` (read, execute) and
    `writable` (everything but making FIFOs and device nodes) beneath those paths, plus the listed device nodes and /dev/null etc.,
    with signals and abstract sockets scoped to itself. Raises if the kernel refuses.

    One Landlock layer, not two: the kernel denies REFER (renaming or linking a file into another
    folder) in every layer that does not grant it explicitly, even one that handles no file rights,
    so a separate scope-only layer made Triton's cache (write in tmp.pid_*/, rename one folder up)
    fail with EXDEV."""
    handled = landlock.FSAccess.all()
    fd = _create_ruleset(int(handled), SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET if abi() >= 6 else 0)
    try:
        _allow(fd, readable, READ)
        # Its own /proc entries writable too: the CUDA driver writes there (a GPU job fails with
        # "OS call failed" otherwise, measured on an H100). Other processes' entries stay read-only.
        _allow(fd, [*writable, Path(f"/proc/{os.getpid()}")], handled & ~NO_NODES)
        _allow(fd, [Path(d) for d in devices] + [Path(p) for p in ("/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                                                  "/dev/urandom", "/dev/tty")], _device_rules())
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)


def _create_ruleset(handled_access_fs: int, scoped: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    attr = _ScopedRuleset(handled_access_fs, 0, scoped)
    # Before ABI 6 the kernel knows a shorter struct (no `scoped`): pass only what it knows.
    size = ctypes.sizeof(attr) if scoped else ctypes.sizeof(ctypes.c_uint64)
    fd = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    return fd
