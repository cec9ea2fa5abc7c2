"""Resource limits of a sandboxed child, and the entry point that applies them before any child code.

`python -m kernelwright.tools.sandbox.limits LIMITS_JSON MODULE [ARGS...]` sets the limits on
itself (they are inherited by every descendant and cannot be raised again without privileges the
sandbox drops), asks the kernel to kill it when its parent dies (where no PID namespace does that
already), then runs MODULE as `python -m MODULE ARGS...` would. Setting them here rather than in
the parent between fork and exec keeps `subprocess`'s thread-unsafe `preexec_fn` out of the CLI,
which checks candidates from several threads.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import runpy
import signal
import sys


@dataclasses.dataclass(frozen=True)
class Limits:
    """rlimit values in bytes, seconds or counts; None leaves that limit as inherited."""

    address_space: int | None = None
    cpu_s: int | None = None
    processes: int | None = None
    open_files: int | None = None
    file_size: int | None = None
    core: int = 0  # no core dumps: a crashed child's memory never lands on disk

    def as_rlimits(self) -> dict[int, int]:
        pairs = {
            resource.RLIMIT_AS: self.address_space,
            resource.RLIMIT_CPU: self.cpu_s,
            resource.RLIMIT_NPROC: self.processes,
            resource.RLIMIT_NOFILE: self.open_files,
            resource.RLIMIT_FSIZE: self.file_size,
            resource.RLIMIT_CORE: self.core,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def describe(self) -> dict[str, int | None]:
        return dataclasses.asdict(self)


def apply(limits: Limits) -> list[str]:
    """Lower each limit (never raise one the parent already lowered); the names that failed."""
    failed = []
    for which, value in limits.as_rlimits().items():
        soft, hard = resource.getrlimit(which)
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(which, (new, new))
        except (ValueError, OSError):
            failed.append(str(which))
    return failed


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (PR_SET_PDEATHSIG); for the degraded sandbox,
    where no PID namespace takes the child down with bubblewrap."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    parent = os.getppid()
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(137)


def main(argv: list[str]) -> None:
    spec, module, *args = argv
    config = json.loads(spec)
    apply(Limits(**config["limits"]))
    if config.get("die_with_parent"):
        die_with_parent()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
