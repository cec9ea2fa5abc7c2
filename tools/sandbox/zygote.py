"""The warm worker: a fork server that runs inside one bubblewrap sandbox with torch and Triton
already imported, and forks one confined worker per job.

`python -m kernelwright.tools.sandbox.zygote` is started by `warm.Zygote` as the sandbox's PID 1
(bubblewrap `--as-pid-1`). It imports what every worker needs (never initialising CUDA: a forked
child cannot use a parent's CUDA context), says `{"ready": ...}` on stdout, then reads one JSON
command a line from stdin:

- `{"op": "spawn", "id", "argv", "home", "env", "limits", "readable", "writable", "devices",
  "stdin", "stdout", "stderr"}`: fork; the child starts its own session, takes its stdio from the
  job's files (stdin a FIFO the parent writes), closes every other descriptor, takes the job's
  environment and limits, asks to die with the zygote, confines itself with Landlock
  (`confine`), then runs `python -m argv...` in-process. Answer: `{"id", "pid"}`.
- `{"op": "kill", "id"}`: SIGKILL the job's worker.

When a worker ends the zygote answers `{"id", "status"}` (the raw wait status). As PID 1 it
adopts every orphan: any process whose parent is the zygote and that is not a worker (a daemon a
job left behind, the rest of a killed job's tree) is killed at once. A job's whole tree therefore
ends with its worker, and the zygote's own end (the parent closing stdin, or dying: bubblewrap's
--die-with-parent) ends the PID namespace and everything in it.
"""

from __future__ import annotations

import json
import os
import runpy
import select
import signal
import sys
import time

from kernelwright.tools.sandbox.zygote_protocol import SpawnCommand, ZygoteCommand, ZygoteMessage

SWEEP_S = 0.1


def preimport() -> dict[str, str]:
    """What every worker would import first; done once, before any fork."""
    import torch
    import torch._dynamo  # noqa: F401 - the first forward through torch's dynamo-disabled wrappers and the reference's FLOP counter import it: 1.5 s a worker otherwise
    import torch.utils.flop_counter  # noqa: F401
    import triton
    import triton.language  # noqa: F401

    import kernelwright.tools.worker.candidate  # noqa: F401
    import kernelwright.tools.worker.common  # noqa: F401
    import kernelwright.tools.worker.reference  # noqa: F401
    import kernelwright.tools.worker.resources  # noqa: F401

    return {"torch": torch.__version__, "triton": triton.__version__}


def _send(message: ZygoteMessage) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def _run_job(job: SpawnCommand, stdin: int) -> int:
    """In the forked child: become the job's worker. Never returns to the zygote's loop."""
    from kernelwright.tools.sandbox.confine import confine
    from kernelwright.tools.sandbox.limits import Limits, apply

    os.setsid()
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.set_blocking(stdin, True)
    stdout = os.open(job["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    stderr = os.open(job["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
    os.closerange(3, 65536)  # the zygote's command pipe and anything else: the job sees only its stdio
    sys.stdin = os.fdopen(0, "r", closefd=False)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["home"])
    apply(Limits(**job["limits"]))
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the zygote
    confine(job["readable"], job["writable"], job["devices"])
    module, *args = job["argv"]
    sys.argv = [module, *args]
    sys.path[0] = job["home"]  # as `python -m` from the job's folder
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the worker's own failure: report it as `python` would
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush(), sys.stderr.flush()
    return code


def _orphans(workers: set[int]) -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in workers or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            found.append(int(entry))
    return found


def serve() -> None:
    versions = preimport()
    _send({"ready": True, "pid": os.getpid(), "torch": versions["torch"], "triton": versions["triton"]})
    jobs: dict[int, str] = {}  # worker pid -> job id
    buffer = b""
    while True:
        readable, _, _ = select.select([0], [], [], SWEEP_S)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                break  # the parent is done: leaving ends the namespace
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                command: ZygoteCommand = json.loads(line)
                if command["op"] == "spawn":
                    # Opened here, before the fork: once the parent hears the pid, the FIFO has its
                    # reader, and what the parent writes and closes is not lost.
                    stdin = os.open(command["stdin"], os.O_RDONLY | os.O_NONBLOCK)
                    pid = os.fork()
                    if pid == 0:
                        os._exit(_run_job(command, stdin))
                    os.close(stdin)
                    jobs[pid] = command["id"]
                    _send({"id": command["id"], "pid": pid})
                elif command["op"] == "kill":
                    for pid, job in list(jobs.items()):
                        if job == command["id"]:
                            os.kill(pid, signal.SIGKILL)
        while True:  # reap workers and adopted orphans alike
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in jobs:
                _send({"id": jobs.pop(pid), "status": status})
        for pid in _orphans(set(jobs)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in list(jobs):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0)


if __name__ == "__main__":
    serve()
