"""Run untrusted code in a child process that cannot take the caller down with it.

The child gets its own process group (so a kernel that forks is killed whole), a timeout that
escalates SIGTERM -> SIGKILL, an environment built from an allow-list (API keys never reach it),
stdin from /dev/null, stdout/stderr in files read back with a size cap, and per-run compiler
caches so one run's Triton/Inductor cache cannot feed another's.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

# Variables a child may inherit. Everything else — OPENAI_API_KEY, tokens, KERNELWRIGHT_* — stays out.
ENV_ALLOW = (
    "PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME",
    "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHASHSEED",
    "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH", "LD_LIBRARY_PATH", "TORCH_CUDA_ARCH_LIST",
    "CC", "CXX", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
    "TRITON_PTXAS_PATH", "TRITON_LIBDEVICE_PATH",
)
# Prefixes passed through whole: the device machines require NVLink multicast to stay off.
ENV_ALLOW_PREFIXES = ("NCCL_", "NVSHMEM_", "TORCH_SYMM_MEM_")
OUTPUT_CAP_BYTES = 64 * 1024
TERM_GRACE_S = 3.0


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
    """The allow-listed environment with per-run caches under `workdir`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ENV_ALLOW or k.startswith(ENV_ALLOW_PREFIXES)
    }
    caches = workdir / "cache"
    env.update(
        HOME=str(workdir),
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


def _read_capped(path: Path) -> str:
    """The last OUTPUT_CAP_BYTES of a file: a runaway print loop cannot flood the caller."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if size > OUTPUT_CAP_BYTES:
                fh.seek(size - OUTPUT_CAP_BYTES)
                head = f"[... {size - OUTPUT_CAP_BYTES} bytes cut ...]\n"
            else:
                head = ""
            return head + fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the child's whole process group, then SIGKILL whatever is left."""
    for sig, wait_s in ((signal.SIGTERM, TERM_GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_child(
    args: Sequence[str],
    workdir: Path,
    timeout_s: float,
    env_extra: Mapping[str, str] | None = None,
    log_name: str = "child",
    stdin_data: bytes | None = None,
) -> ChildResult:
    """Run `python -m <args>` in a sandboxed child; never raises for the child's own failures.

    `stdin_data` reaches the child through a pipe that is closed right after: a secret passed
    this way is not on disk, in the environment or on the command line."""
    workdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = workdir / f"{log_name}.stdout", workdir / f"{log_name}.stderr"
    env = child_env(workdir, env_extra)
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=str(workdir),
            start_new_session=True,
        )
        if stdin_data is not None:
            try:
                proc.stdin.write(stdin_data)
                proc.stdin.close()
            except BrokenPipeError:  # the child died before reading: its exit status tells why
                pass
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # Even a child that exited may have left grandchildren in its group.
            _kill_group(proc)
    rc = proc.returncode
    sig = signal.Signals(-rc).name if rc is not None and rc < 0 else None
    return ChildResult(
        returncode=rc,
        timed_out=timed_out,
        signal_name=sig,
        stdout=_read_capped(out_path),
        stderr=_read_capped(err_path),
        wall_s=time.monotonic() - start,
    )
