"""The one way kernelwright starts untrusted code: `python -m MODULE` in an OS-isolated child.

`ChildSession` starts the child at once (its start-up overlaps the caller's other work) with a
pipe on its stdin that the caller writes commands to; `run_child` is a session that is told to
finish right away. Every child gets:

- bubblewrap's sandbox (see `support` and `mounts`): no network, its own PID namespace and /proc,
  an allow-listed read-only file system with its work folder (and the folders its caller names)
  writable, its own IPC, host name and user namespace, no capabilities, killed with its parent;
- an environment built from an allow-list (no API keys, no KERNELWRIGHT_* variables) and no
  inherited file descriptors but its stdin, stdout and stderr;
- resource limits set before any of its code runs (`limits`);
- stdout/stderr in files read back with a size cap, then redacted (`redact`);
- a timeout after which the whole tree is killed: SIGKILL to bubblewrap takes its PID namespace,
  and so every descendant, with it (a degraded sandbox without bubblewrap kills the process group).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from kernelwright.tools.sandbox.environ import environ_snapshot
from kernelwright.tools.sandbox.isolation import Isolation, IsolationRequired, isolation_of
from kernelwright.tools.sandbox.limits import Limits
from kernelwright.tools.sandbox.mounts import SANDBOX_HOSTNAME, Mounts, bwrap_mount_args
from kernelwright.tools.sandbox.policy import SandboxPolicy
from kernelwright.tools.sandbox.redact import redact
from kernelwright.tools.sandbox.support import namespace_flags, probe

# Variables a child may inherit. Everything else (OPENAI_API_KEY, tokens, KERNELWRIGHT_*) stays out.
ENV_ALLOW = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHASHSEED",
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH", "TORCH_CUDA_ARCH_LIST",
    "CC", "CXX", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
    "TRITON_PTXAS_PATH", "TRITON_LIBDEVICE_PATH",
)
# Prefixes passed through whole: the device machines require NVLink multicast to stay off.
ENV_ALLOW_PREFIXES = ("NCCL_", "NVSHMEM_", "TORCH_SYMM_MEM_")
OUTPUT_CAP_BYTES = 64 * 1024
POLL_S = 0.01
LIMITS_ENTRY = "kernelwright.tools.sandbox.limits"
# Exit statuses above this are bubblewrap's report of a child killed by signal (128 + N).
SIGNAL_EXIT_BASE = 128


@dataclasses.dataclass
class ChildResult:
    returncode: int | None
    timed_out: bool
    signal_name: str | None
    stdout: str
    stderr: str
    wall_s: float

    @property
    def crashed(self) -> bool:
        return self.signal_name is not None and not self.timed_out


def child_env(workdir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed environment, with home, temp and compiler caches in `workdir`."""
    env = {k: v for k, v in environ_snapshot().items() if k in ENV_ALLOW or k.startswith(ENV_ALLOW_PREFIXES)}
    caches = workdir / "cache"
    env.update(
        HOME=str(workdir),
        USER="kernelwright",  # Triton and Inductor name cache folders after the user
        TMPDIR=str(workdir / "tmp"),
        TRITON_CACHE_DIR=str(caches / "triton"),
        TORCHINDUCTOR_CACHE_DIR=str(caches / "inductor"),
        TORCH_EXTENSIONS_DIR=str(caches / "torch_extensions"),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        # Multiply-add fusion on, as every Triton up to 3.9 defaults: 3.10 turns it off, which would
        # change candidates' rounding (and their checks) with the Triton release, not their code.
        TRITON_DEFAULT_FP_FUSION="1",
    )
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    if extra:
        env.update(extra)
    return env


def child_limits(policy: SandboxPolicy, timeout_s: float, gpu: bool) -> Limits:
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    cores = os.cpu_count() or 1
    return Limits(
        address_space=None if gpu else policy.memory_bytes(physical),
        cpu_s=policy.cpu_s or int(4 * max(timeout_s, 60) * cores),
        processes=policy.max_processes,
        open_files=policy.max_open_files,
        file_size=int(policy.max_file_gb * 2**30),
    )


def sandbox_for(policy: SandboxPolicy, timeout_s: float, gpu: bool) -> tuple[Isolation, Limits]:
    """The isolation a child would get now, or IsolationRequired if the policy demands more."""
    limits = child_limits(policy, timeout_s, gpu)
    isolation = isolation_of(probe(), limits)
    if policy.require_full and not isolation.full:
        raise IsolationRequired("full isolation required (sandbox.require_full) but missing: " + "; ".join(isolation.missing)
                                + " (run `kernelwright doctor` to see what this machine supports)")
    return isolation, limits


def _read_capped(path: Path) -> str:
    """The last OUTPUT_CAP_BYTES of a file, redacted: a runaway print loop cannot flood the caller,
    and a secret the child found does not travel further."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = ""
            if size > OUTPUT_CAP_BYTES:
                fh.seek(size - OUTPUT_CAP_BYTES)
                head = f"[... {size - OUTPUT_CAP_BYTES} bytes cut ...]\n"
            return redact(head + fh.read().decode("utf-8", errors="replace"))
    except OSError:
        return ""


class ChildSession:
    """`python -m <args>` started now in the sandbox, with a pipe on its stdin kept open."""

    def __init__(
        self,
        args: Sequence[str],
        workdir: Path,
        env_extra: Mapping[str, str] | None = None,
        log_name: str = "child",
        mounts: Mounts | None = None,
        policy: SandboxPolicy | None = None,
        timeout_s: float = 300.0,
        device: str | None = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = workdir / f"{log_name}.stdout", workdir / f"{log_name}.stderr"
        self.started = time.monotonic()
        self.timed_out = False
        gpu = bool(device and device.startswith("cuda"))
        self.isolation, limits = sandbox_for(policy or SandboxPolicy(), timeout_s, gpu)
        support = probe()
        self.sandboxed = support.usable
        entry = [sys.executable, "-m", LIMITS_ENTRY, _limits_spec(limits, die_with_parent=not self.sandboxed), *args]
        if self.sandboxed:
            command = [support.bwrap, *namespace_flags(support.namespaces), "--die-with-parent", "--new-session",
                       "--hostname", SANDBOX_HOSTNAME, *bwrap_mount_args(workdir, mounts or Mounts(), device),
                       "--chdir", str(workdir), "--", *entry]
        else:
            command = entry
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                env=child_env(workdir, env_extra),
                cwd=str(workdir),
                start_new_session=True,
                close_fds=True,
            )
        self._result: ChildResult | None = None

    def end_input(self) -> None:
        """Close the child's stdin: it reads end-of-file after what was sent."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def send(self, data: bytes) -> bool:
        """Write to the child's stdin; False if it is gone (its exit status tells why)."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> str:
        """Poll until `ready()` holds ("ready"), the child exits ("exited") or `timeout_s` passes
        ("timeout": the child is then killed)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if ready():
                return "ready"
            if self.proc.poll() is not None:
                return "ready" if ready() else "exited"
            if time.monotonic() > deadline:
                self.timed_out = True
                self.close(grace_s=0)
                return "timeout"
            time.sleep(POLL_S)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def snapshot(self) -> ChildResult:
        """The child as it stands (still running: returncode None)."""
        return self._result or ChildResult(self.proc.poll(), self.timed_out, None, "", _read_capped(self.err_path),
                                           time.monotonic() - self.started)

    def close(self, grace_s: float = 10.0) -> ChildResult:
        """Close stdin (end of work), give the child `grace_s` to exit, then kill its whole tree."""
        if self._result is not None:
            return self._result
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        return self.kill()

    def kill(self) -> ChildResult:
        """Kill the whole tree now, its stdin still open: the child never reads end-of-file, so none
        of its code runs again (no exit handler, no finaliser)."""
        if self._result is not None:
            return self._result
        self._kill_tree()
        rc = self.proc.returncode
        self._result = ChildResult(
            returncode=rc,
            timed_out=self.timed_out,
            signal_name=_signal_name(rc, self.sandboxed),
            stdout=_read_capped(self.out_path),
            stderr=_read_capped(self.err_path),
            wall_s=time.monotonic() - self.started,
        )
        return self._result

    def _kill_tree(self) -> None:
        """Everything the child started dies with it. Under bubblewrap one SIGKILL to bubblewrap
        does it: its PID namespace's init dies with it (--die-with-parent), and the kernel kills
        every process left in the namespace, setsid'd and SIGTERM-ignoring ones included.
        Without bubblewrap, the child's process group is killed (a new session escapes it)."""
        try:
            if self.sandboxed:
                os.kill(self.proc.pid, signal.SIGKILL)
            else:
                os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            pass


def _limits_spec(limits: Limits, die_with_parent: bool) -> str:
    import json

    return json.dumps({"limits": dataclasses.asdict(limits), "die_with_parent": die_with_parent})


def _signal_name(rc: int | None, sandboxed: bool) -> str | None:
    """The signal that ended the child: a negative status from Popen, or bubblewrap's 128 + N."""
    if rc is None:
        return None
    number = -rc if rc < 0 else (rc - SIGNAL_EXIT_BASE if sandboxed and rc > SIGNAL_EXIT_BASE else None)
    if number is None:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return None


def run_child(
    args: Sequence[str],
    workdir: Path,
    timeout_s: float,
    env_extra: Mapping[str, str] | None = None,
    log_name: str = "child",
    stdin_data: bytes | None = None,
    mounts: Mounts | None = None,
    policy: SandboxPolicy | None = None,
    device: str | None = None,
    warm: bool = True,
) -> ChildResult:
    """Run `python -m <args>` in a sandboxed child to its end; never raises for the child's own
    failures. `stdin_data` reaches the child through its stdin pipe, closed right after: a secret
    passed this way is not on disk, in the environment or on the command line."""
    session = start_child(args, workdir, env_extra, log_name, mounts, policy, timeout_s, device, warm)
    if stdin_data is not None:
        session.send(stdin_data)
    session.end_input()
    session.wait_until(lambda: False, timeout_s)  # until it exits, or killed at the timeout
    return session.close(grace_s=0)


def start_child(
    args: Sequence[str],
    workdir: Path,
    env_extra: Mapping[str, str] | None = None,
    log_name: str = "child",
    mounts: Mounts | None = None,
    policy: SandboxPolicy | None = None,
    timeout_s: float = 300.0,
    device: str | None = None,
    warm: bool = True,
):
    """A job forked from the warm worker where that isolates as well (see `warm`), else a cold
    `ChildSession`. Both have the same methods."""
    mounts, policy = mounts or Mounts(), policy or SandboxPolicy()
    if warm:
        from kernelwright.tools.sandbox.warm import warm_child

        child = warm_child(args, workdir, env_extra, log_name, mounts, policy, timeout_s, device)
        if child is not None:
            return child
    return ChildSession(args, workdir, env_extra, log_name, mounts, policy, timeout_s, device)


def scratch_root() -> Path | None:
    """Where folders for sandboxed jobs should be made: the warm worker's jobs folder when warm
    jobs are possible, else None (the system's temp folder)."""
    from kernelwright.tools.sandbox.warm import available, jobs_root

    return jobs_root() if available() is None else None
