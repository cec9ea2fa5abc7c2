"""A sandboxed child that the parent drives in steps instead of starting one per step.

Starting a worker costs seconds (importing torch, creating a CUDA context); a check used to pay it
once per stage. A session child starts at once, so its start-up overlaps the parent's other work,
then waits for messages on its stdin and answers by writing files. The sandbox is `run_child`'s:
own process group, environment allow-list, per-check caches, capped logs, SIGTERM -> SIGKILL of
the whole group. Closing stdin tells the child there is nothing more to do.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from kernelwright.tools.sandbox.process import ChildResult, _kill_group, _read_capped, child_env

POLL_S = 0.01


class ChildSession:
    """`python -m <args>` started now in the sandbox, with a pipe on its stdin kept open."""

    def __init__(self, args: Sequence[str], workdir: Path, env_extra: Mapping[str, str] | None = None, log_name: str = "child") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = workdir / f"{log_name}.stdout", workdir / f"{log_name}.stderr"
        self.started = time.monotonic()
        self.timed_out = False
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", *args],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=err,
                env=child_env(workdir, env_extra),
                cwd=str(workdir),
                start_new_session=True,
            )
        self._result: ChildResult | None = None

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
        return self._result or ChildResult(self.proc.poll(), self.timed_out, None, "", _read_capped(self.err_path), time.monotonic() - self.started)

    def close(self, grace_s: float = 10.0) -> ChildResult:
        """Close stdin (end of work), give the child `grace_s` to exit, then kill its whole group."""
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
        _kill_group(self.proc)  # also reaps what the child left in its group
        rc = self.proc.returncode
        sig = signal.Signals(-rc).name if rc is not None and rc < 0 else None
        self._result = ChildResult(
            returncode=rc,
            timed_out=self.timed_out,
            signal_name=sig,
            stdout=_read_capped(self.out_path),
            stderr=_read_capped(self.err_path),
            wall_s=time.monotonic() - self.started,
        )
        return self._result
