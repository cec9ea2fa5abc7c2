"""The file system a sandboxed child sees: an allow-list, not the machine minus a deny-list.

Read-only: the system's programs and libraries (/usr, /opt and the merged-/usr links), a short
list of /etc files the dynamic loader, the C compiler and Python need, /sys (CUDA and torch read
device facts there), the Python installation and its site-packages, PYTHONPATH entries, the
kernelwright package folders and the CUDA toolkit. Read-write: the child's own work folder and any
folder its caller names. Private: /tmp, /dev/shm, /proc and a minimal /dev (plus the GPU's device
nodes). Everything else, the user's home, the kernelwright home with its databases and the
problem's own folder included, does not exist inside.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import site
import sys
import sysconfig
from pathlib import Path

# The sandbox's host name (its own UTS namespace): an ordinary one, so a candidate that reads it
# cannot tell a check from a user's run by it.
SANDBOX_HOSTNAME = "localhost"
SYSTEM_DIRS = ("/usr", "/opt")
MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone",
    "nsswitch.conf", "passwd", "group", "hosts", "os-release", "lsb-release", "debian_version",
)
GPU_NODE_PREFIX = "/dev/nvidia"


@dataclasses.dataclass(frozen=True)
class Mounts:
    """What one child may see beyond the allow-list: paths it may read, and paths it may write."""

    readable: tuple[Path, ...] = ()
    writable: tuple[Path, ...] = ()


def _existing(paths) -> list[Path]:
    out = []
    for p in paths:
        if p and Path(p).exists():
            out.append(Path(os.path.realpath(p)) if Path(p).is_dir() else Path(p))
    return out


def python_dirs() -> tuple[Path, ...]:
    """The interpreter, its standard library and site-packages, PYTHONPATH entries and the
    kernelwright package folders (a source checkout maps several repository folders into it).
    PYTHONPATH is read at each call (a child takes the path its parent has now); the rest once."""
    pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return tuple(_dedupe(_existing([*_installed_python_dirs(), *pythonpath])))


@functools.cache
def _installed_python_dirs() -> tuple[Path, ...]:
    import kernelwright

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    paths += [sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib", "include")]
    paths += site.getsitepackages() if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        paths.append(site.getusersitepackages())
    package_dirs = list(kernelwright.__path__)
    for name in ("tools", "agents", "graphs", "memory", "configs", "bench"):
        try:
            module = __import__(f"kernelwright.{name}", fromlist=["__path__"])
        except ImportError:
            continue
        package_dirs += list(module.__path__)
    # The repository root a source checkout appends to kernelwright.__path__ would expose the whole
    # checkout: only the package folders themselves are needed.
    package_dirs = [p for p in package_dirs if not (Path(p) / "pyproject.toml").exists()]
    return tuple(_dedupe(_existing(paths + package_dirs)))


@functools.cache
def toolkit_dirs() -> tuple[Path, ...]:
    """CUDA toolkit and compiler folders named by the environment, outside the system folders."""
    paths = [os.environ.get(k) for k in ("CUDA_HOME", "CUDA_PATH")]
    for k in ("TRITON_PTXAS_PATH", "TRITON_LIBDEVICE_PATH", "KERNELWRIGHT_NCU"):
        if os.environ.get(k):
            paths.append(os.path.dirname(os.environ[k]))
    paths += [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    return tuple(_dedupe(_existing(paths)))


def _dedupe(paths: list[Path]) -> list[Path]:
    """Drop paths under a system folder or under another path of the list."""
    system = [Path(d) for d in SYSTEM_DIRS]
    out: list[Path] = []
    for p in sorted(set(paths), key=lambda q: len(q.parts)):
        if any(p == s or s in p.parents for s in system + out):
            continue
        out.append(p)
    return out


def gpu_nodes(device: str | None) -> list[str]:
    """The NVIDIA device nodes a child on `device` needs: the control and unified-memory nodes and
    its own card's (`cuda:N` is the N-th visible card; `cuda` all of them). None for the CPU."""
    if not device or not device.startswith("cuda"):
        return []
    dev = Path("/dev")
    cards = sorted(p for p in dev.glob("nvidia[0-9]*"))
    index = device.partition(":")[2]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if index.isdigit() and not visible:  # with CUDA_VISIBLE_DEVICES the numbering is CUDA's, not /dev's
        cards = [p for p in cards if p.name == f"nvidia{index}"]
    nodes = sorted(str(p) for p in dev.glob("nvidia*") if not p.is_dir() and not p.name[6:].isdigit())
    nodes += [str(p) for p in cards]
    caps = dev / "nvidia-caps"
    if caps.is_dir():
        nodes += sorted(str(p) for p in caps.iterdir())
    return nodes


def readable_base() -> list[Path]:
    """What every child may read and execute: the read-only part of `bwrap_mount_args` (a warm job
    is confined to these with Landlock, since its zygote's sandbox also holds other jobs)."""
    paths = [Path(d) for d in (*SYSTEM_DIRS, *MERGED_USR_LINKS, "/sys", "/proc") if Path(d).exists()]
    paths += [Path("/etc") / name for name in ETC_FILES if (Path("/etc") / name).exists()]
    return paths + list(python_dirs()) + list(toolkit_dirs())


def bwrap_mount_args(workdir: Path, mounts: Mounts, device: str | None) -> list[str]:
    """bubblewrap arguments building the child's file system (order matters: later mounts lie on top)."""
    args: list[str] = []
    for d in SYSTEM_DIRS:
        if Path(d).is_dir():
            args += ["--ro-bind", d, d]
    for link in MERGED_USR_LINKS:
        p = Path(link)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), link]
        elif p.is_dir():
            args += ["--ro-bind", link, link]
    for name in ETC_FILES:
        p = Path("/etc") / name
        if p.exists():
            args += ["--ro-bind", str(p), str(p)]
    if Path("/sys").is_dir():
        args += ["--ro-bind", "/sys", "/sys"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
    for node in gpu_nodes(device):
        args += ["--dev-bind", node, node]
    for p in (*python_dirs(), *toolkit_dirs()):
        args += ["--ro-bind", str(p), str(p)]
    for p in mounts.readable:
        args += ["--ro-bind", str(p), str(p)]
    for p in (workdir, *mounts.writable):
        args += ["--bind", str(p), str(p)]
    # The root bubblewrap builds the tree on is a tmpfs: read-only too, so nothing can be written
    # but the work folder, the private /tmp and /dev/shm.
    args += ["--remount-ro", "/"]
    return args
