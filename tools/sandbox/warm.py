"""The parent's side of the warm worker: one zygote per process and device kind, jobs forked from it.

Starting a sandboxed Python that imports torch and Triton costs 1-3 s of CPU; a check starts two
or three of them. A `Zygote` (see `zygote`) pays that once per process: every later job is a fork
of a process that has them imported, confined to its job by Landlock. Jobs behave like a
`ChildSession` (`WarmChild` has the same methods), so callers do not care which they got.

The warm path is used where it isolates as well as the cold one: the kernel has Landlock, the
sandbox (bubblewrap with a PID namespace) runs, and every path the job needs lies in the zygote's
jobs folder (`jobs_root()`: check folders are made there). Otherwise, or with
`KERNELWRIGHT_WARM=off`, the caller gets a cold child. A zygote that died is started again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kernelwright.tools.sandbox.child import POLL_S, ChildResult, _read_capped, child_env, child_limits
from kernelwright.tools.sandbox.confine import abi as landlock_abi
from kernelwright.tools.sandbox.isolation import Isolation, isolation_of
from kernelwright.tools.sandbox.limits import Limits
from kernelwright.tools.sandbox.mounts import (
    SANDBOX_HOSTNAME,
    Mounts,
    bwrap_mount_args,
    gpu_nodes,
    readable_base,
)
from kernelwright.tools.sandbox.policy import SandboxPolicy
from kernelwright.tools.sandbox.support import namespace_flags, probe
from kernelwright.tools.sandbox.zygote_protocol import Ready, ZygoteCommand, ZygoteMessage

ZYGOTE = "kernelwright.tools.sandbox.zygote"
READY_TIMEOUT_S = 300.0
_LOCK = threading.RLock()
# One zygote per (GPU, Triton interpreter): Triton decides at import time whether its own library
# of @jit functions is interpreted, so interpreted and compiled jobs need zygotes of their own.
# Keyed by device kind, Triton mode and PYTHONPATH: a zygote's interpreter took its import path
# (and any sitecustomize on it) when it started, so a job asked for under another path gets the
# zygote started under that one, as a cold child would.
_ZYGOTES: dict[tuple[bool, bool, str], Zygote] = {}
_ROOT: Path | None = None


def jobs_root() -> Path:
    """The folder every warm job lives under (one per process; removed at exit by the OS's temp
    cleaning, not here: a job may still be reading it while the interpreter shuts down)."""
    global _ROOT
    with _LOCK:
        if _ROOT is None:
            _ROOT = Path(tempfile.mkdtemp(prefix="kw-jobs-"))
        return _ROOT


def available() -> str | None:
    """None if warm jobs are possible here, else why not."""
    if os.environ.get("KERNELWRIGHT_WARM") == "off":
        return "turned off (KERNELWRIGHT_WARM=off)"
    support = probe()
    if not support.usable or "pid" not in support.namespaces:
        return "needs bubblewrap with a PID namespace"
    if landlock_abi() < 1:
        return "needs Landlock (Linux 5.13+) to keep forked jobs apart"
    return None


class Zygote:
    """One fork server in its own bubblewrap sandbox (PID 1 of its namespace)."""

    def __init__(self, gpu: bool, interpret: bool, root: Path) -> None:
        support = probe()
        self.gpu, self.interpret, self.root = gpu, interpret, root
        home = self.root / f"zygote-{'gpu' if gpu else 'cpu'}{'-interpret' if interpret else ''}-{secrets.token_hex(3)}"
        home.mkdir()
        self.home = home
        limits = Limits()  # each job sets its own limits; the zygote must not cap what a job may ask for
        entry = [sys.executable, "-m", "kernelwright.tools.sandbox.limits",
                 json.dumps({"limits": dataclasses.asdict(limits), "die_with_parent": False}), ZYGOTE]
        command = [support.bwrap, *namespace_flags(support.namespaces), "--as-pid-1", "--die-with-parent", "--new-session",
                   "--hostname", SANDBOX_HOSTNAME, *bwrap_mount_args(home, Mounts(writable=(self.root,)), "cuda" if gpu else None),
                   "--chdir", str(home), "--", *entry]
        self.isolation = isolation_of(support, limits)
        self._err = (home / "zygote.stderr").open("wb")
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err,
                                     env=child_env(home, {"TRITON_INTERPRET": "1"} if interpret else None), cwd=str(home),
                                     start_new_session=True, close_fds=True)
        self._write_lock = threading.Lock()
        self._cond = threading.Condition()
        self.ready: Ready | None = None
        self.pids: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.dead = False
        # The reader lives as long as the zygote; bubblewrap's parent-death signal follows the thread
        # that started it, which is why zygotes are started from their own long-lived thread.
        threading.Thread(target=self._read, name="kw-zygote-reader", daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            message: ZygoteMessage = json.loads(line)
            with self._cond:
                if "ready" in message:
                    self.ready = message
                elif "pid" in message:
                    self.pids[message["id"]] = message["pid"]
                elif "status" in message:
                    self.statuses[message["id"]] = message["status"]
                self._cond.notify_all()
        with self._cond:
            self.dead = True
            self._cond.notify_all()

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: self.ready is not None or self.dead, timeout_s)
            return self.ready is not None and not self.dead

    def command(self, message: ZygoteCommand) -> bool:
        data = (json.dumps(message) + "\n").encode()
        with self._write_lock:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
                return True
            except (BrokenPipeError, ValueError, OSError):
                return False

    def wait_pid(self, job: str, timeout_s: float) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: job in self.pids or job in self.statuses or self.dead, timeout_s)
            return self.pids.get(job)

    def status_of(self, job: str) -> int | None:
        with self._cond:
            return self.statuses.get(job)

    def wait_status(self, job: str, timeout_s: float) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: job in self.statuses or self.dead, timeout_s)
            return self.statuses.get(job)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _start_zygote(gpu: bool, interpret: bool, root: Path) -> Zygote:
    """A zygote started from a thread of its own that outlives the caller's (see Zygote._read)."""
    box: list[Any] = []

    def start() -> None:
        try:
            box.append(Zygote(gpu, interpret, root))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box.append(exc)
        threading.Event().wait()  # keep this thread, and so the zygote's parent-death link, alive

    threading.Thread(target=start, name=f"kw-zygote-{'gpu' if gpu else 'cpu'}", daemon=True).start()
    while not box:
        time.sleep(0.005)
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]


def zygote_for(gpu: bool, interpret: bool = False) -> Zygote | None:
    """The running zygote for this device kind and Triton mode, started if needed; None if it cannot start."""
    root = jobs_root()
    key = (gpu, interpret, os.environ.get("PYTHONPATH", ""))
    with _LOCK:
        zygote = _ZYGOTES.get(key)
        if zygote is None or zygote.dead or zygote.proc.poll() is not None:
            zygote = _ZYGOTES[key] = _start_zygote(gpu, interpret, root)
    return zygote if zygote.wait_ready() else None


def prestart(device: str, compiler: bool = True) -> None:
    """Start the zygotes a check on `device` will fork from, without waiting for them: a cold CLI
    check otherwise starts them only after its static scan (the zygote's imports took 7 s on an
    H100 machine, the scan 3 s, in sequence). On the CPU both workers fork from the interpreter's
    zygote; the compiler's (`compiler`) serves the sm_90 compile of the solution's kernels.
    Nothing happens where warm jobs are not possible."""
    if available() is not None:
        return
    gpu = device.startswith("cuda")

    def start(interpret: bool) -> None:
        try:
            zygote_for(gpu, interpret)
        except Exception:  # noqa: BLE001 - the check's own start of the zygote meets it again and reports it
            pass

    # On a GPU one zygote serves both workers; on the CPU the interpreter's, and the compiler's if asked.
    for interpret in (False,) if gpu else ((True, False) if compiler else (True,)):
        threading.Thread(target=start, args=(interpret,), name="kw-zygote-prestart", daemon=True).start()


def within(paths: Sequence[Path], root: Path) -> bool:
    return all(Path(p).resolve() == root or root in Path(p).resolve().parents for p in paths)


class WarmChild:
    """A job forked from a zygote; the same interface as `ChildSession`."""

    def __init__(self, zygote: Zygote, args: Sequence[str], workdir: Path, env: dict[str, str], log_name: str,
                 mounts: Mounts, limits: Limits, device: str | None, isolation: Isolation) -> None:
        self.zygote, self.id = zygote, secrets.token_hex(8)
        self.out_path, self.err_path = workdir / f"{log_name}.stdout", workdir / f"{log_name}.stderr"
        self.started = time.monotonic()
        self.timed_out = False
        self.sandboxed = True
        # The job's own limits (the zygote runs without any, so that each job can set its own).
        self.isolation = dataclasses.replace(isolation, layers=(*isolation.layers, "job_confinement"), limits=limits.describe(),
                                             notes=(*isolation.notes, "warm worker: forked from a zygote, confined by Landlock"))
        fifo = workdir / f"{log_name}.stdin"
        fifo.unlink(missing_ok=True)
        os.mkfifo(fifo, 0o600)
        self._stdin: int | None = os.open(fifo, os.O_RDWR)  # never blocks; the job sees EOF once this closes
        self._result: ChildResult | None = None
        readable = [str(p) for p in (*readable_base(), *mounts.readable)]
        writable = [str(p) for p in (workdir, *mounts.writable)]
        ok = zygote.command({"op": "spawn", "id": self.id, "argv": list(args), "home": str(workdir), "env": env,
                             "limits": dataclasses.asdict(limits), "readable": readable, "writable": writable,
                             "devices": gpu_nodes(device), "stdin": str(fifo), "stdout": str(self.out_path),
                             "stderr": str(self.err_path)})
        if not ok:
            self._result = ChildResult(None, False, None, "", "the warm worker is gone", 0.0)

    def end_input(self) -> None:
        if self._stdin is not None:
            self.zygote.wait_pid(self.id, 60.0)  # the job's end of the FIFO is open once it has a pid
            try:
                os.close(self._stdin)
            except OSError:
                pass
            self._stdin = None

    def send(self, data: bytes) -> bool:
        if self._stdin is None:
            return False
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._stdin, view):]
            return True
        except OSError:
            return False

    @property
    def alive(self) -> bool:
        return self._result is None and self.zygote.status_of(self.id) is None and not self.zygote.dead

    def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            if ready():
                return "ready"
            if not self.alive:
                return "ready" if ready() else "exited"
            if time.monotonic() > deadline:
                self.timed_out = True
                self.close(grace_s=0)
                return "timeout"
            time.sleep(POLL_S)

    def snapshot(self) -> ChildResult:
        return self._result or ChildResult(self._returncode(self.zygote.status_of(self.id)), self.timed_out, None, "",
                                           _read_capped(self.err_path), time.monotonic() - self.started)

    @staticmethod
    def _returncode(status: int | None) -> int | None:
        if status is None:
            return None
        return os.waitstatus_to_exitcode(status)

    def close(self, grace_s: float = 10.0) -> ChildResult:
        if self._result is not None:
            return self._result
        self.end_input()
        return self._finish(self.zygote.wait_status(self.id, grace_s))

    def kill(self) -> ChildResult:
        """As `ChildSession.kill`: killed with its input still open, so none of its code runs again."""
        if self._result is not None:
            return self._result
        return self._finish(None)

    def _finish(self, status: int | None) -> ChildResult:
        if status is None:
            self.zygote.command({"op": "kill", "id": self.id})
            status = self.zygote.wait_status(self.id, 10.0)
        if self._stdin is not None:  # killed with its input open: our end of the FIFO still is
            try:
                os.close(self._stdin)
            except OSError:
                pass
            self._stdin = None
        rc = self._returncode(status)
        self._result = ChildResult(
            returncode=rc,
            timed_out=self.timed_out,
            signal_name=signal.Signals(-rc).name if rc is not None and rc < 0 else None,
            stdout=_read_capped(self.out_path),
            stderr=_read_capped(self.err_path) or ("" if status is not None else "the warm worker is gone"),
            wall_s=time.monotonic() - self.started,
        )
        return self._result


def warm_child(args: Sequence[str], workdir: Path, env_extra: Mapping[str, str] | None, log_name: str, mounts: Mounts,
               policy: SandboxPolicy, timeout_s: float, device: str | None) -> WarmChild | None:
    """A job in the warm worker, or None where the warm path does not apply (the caller starts a cold child)."""
    root = jobs_root()
    if available() is not None or not within([workdir, *mounts.readable, *mounts.writable], root):
        return None
    gpu = bool(device and device.startswith("cuda"))
    zygote = zygote_for(gpu, interpret=(env_extra or {}).get("TRITON_INTERPRET") == "1")
    if zygote is None:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env(workdir, env_extra)
    limits = child_limits(policy, timeout_s, gpu)
    return WarmChild(zygote, args, workdir, env, log_name, mounts, limits, device, zygote.isolation)


def shutdown() -> None:
    """Stop every zygote (tests; a process's zygotes otherwise end with it)."""
    with _LOCK:
        for zygote in _ZYGOTES.values():
            zygote.close()
        _ZYGOTES.clear()


def remove_jobs_root() -> None:
    global _ROOT
    with _LOCK:
        if _ROOT is not None:
            shutil.rmtree(_ROOT, ignore_errors=True)
            _ROOT = None
