"""A candidate's output tensor handed to the reference worker without leaving the GPU: a CUDA VMM
allocation (cuMemCreate) exported as a POSIX file descriptor, passed with the sealed output file
(`output_share`), imported and mapped by the receiver.

Why: at KernelBench's full sizes a checked output is 6.4 GB; through host memory and a file it cost
about 8 s to write and 4.5-7.6 s to read and compare per trial (H100, 2026-12-07). Legacy CUDA IPC
handles do not cross PID namespaces (each worker has its own); VMM descriptors do, being file
descriptors: on an H100, 2026-12-07, a 6 GiB buffer went from one bubblewrap sandbox to another in
about 5 ms (copy 4.3 ms, export and send 1.1 ms, import and map 0.7 ms; `benchmarks/vmm_share_probe.py`).

Why the bytes are the checker's: the writer copies the output (device-to-device) into a fresh
allocation after the call's checks and the device's synchronisation, with none of the candidate's
code running, exports it, and releases every handle of its own before it returns (mapping, address
range, allocation). The exported descriptor, sent and closed, is then the only way to the memory:
the candidate's process keeps no address that reaches it.

The writer runs in the candidate's process, so it calls the driver through ctypes function
pointers resolved at load (before the candidate's code is imported), with arguments built from
ctypes objects made then and set through the C-level `value` descriptor: no ctypes class or
module attribute is looked up at call time (a replaced `c_uint64.from_param` or `value` would run
the candidate's code inside the copy).
"""

from __future__ import annotations

import ctypes
import os

import torch

_PINNED, _POSIX_FD, _ON_DEVICE, _READ_WRITE = 1, 1, 1, 3
MIN_BYTES = 1 << 20  # smaller outputs go through host memory: a VMM allocation is 2 MiB at least
CARD_SHARE = 0.25  # exported and not yet compared: at most this share of the card
ROOM_TRIALS = 4  # and only while this many more outputs of its size still fit beside it


class _Location(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("id", ctypes.c_int)]


class _AllocationProp(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("requestedHandleTypes", ctypes.c_int), ("location", _Location),
                ("win32HandleMetaData", ctypes.c_void_p), ("compressionType", ctypes.c_ubyte),
                ("gpuDirectRDMACapable", ctypes.c_ubyte), ("usage", ctypes.c_ushort), ("reserved", ctypes.c_ubyte * 4)]


class _AccessDesc(ctypes.Structure):
    _fields_ = [("location", _Location), ("flags", ctypes.c_int)]


_set = ctypes.c_uint64.__mro__[1].__dict__["value"].__set__  # _SimpleCData.value: a C descriptor
_get = ctypes.c_uint64.__mro__[1].__dict__["value"].__get__
_byref = ctypes.byref
_NAMES = ("cuMemGetAllocationGranularity", "cuMemCreate", "cuMemAddressReserve", "cuMemMap", "cuMemSetAccess", "cuMemcpyDtoD_v2",
          "cuCtxSynchronize", "cuMemExportToShareableHandle", "cuMemUnmap", "cuMemAddressFree", "cuMemRelease",
          "cuMemImportFromShareableHandle", "cuMemGetInfo_v2")


class DeviceShare:
    """The driver's entry points and the argument objects, made once per process (`load`)."""

    def __init__(self, device_index: int) -> None:
        lib = ctypes.CDLL("libcuda.so.1")
        self.fn = {name: getattr(lib, name) for name in _NAMES}
        for f in self.fn.values():
            f.restype = ctypes.c_int
        self.prop = _AllocationProp(type=_PINNED, requestedHandleTypes=_POSIX_FD, location=_Location(_ON_DEVICE, device_index))
        self.access = _AccessDesc(location=_Location(_ON_DEVICE, device_index), flags=_READ_WRITE)
        self.handle, self.ptr, self.size, self.src, self.zero = (ctypes.c_uint64() for _ in range(5))
        self.fd, self.count, self.granularity = ctypes.c_int(-1), ctypes.c_uint64(1), ctypes.c_size_t()
        self.free, self.total = ctypes.c_size_t(), ctypes.c_size_t()
        self._check(self.fn["cuMemGetAllocationGranularity"](_byref(self.granularity), _byref(self.prop), 0), "granularity")
        self.exported = 0  # bytes exported by this process (held by the receiver until compared)

    @staticmethod
    def _check(rc: int, what: str) -> None:
        if rc != 0:
            raise OSError(f"CUDA driver: {what} failed (CUresult {rc})")

    def padded(self, nbytes: int) -> int:
        g = _get(self.granularity)
        return -(-nbytes // g) * g

    def room_for(self, nbytes: int) -> bool:
        """Whether another export of `nbytes` keeps within CARD_SHARE and leaves room for the trials."""
        if nbytes < MIN_BYTES:
            return False
        self._check(self.fn["cuMemGetInfo_v2"](_byref(self.free), _byref(self.total)), "memory info")
        size = self.padded(nbytes)
        return self.exported + size <= CARD_SHARE * _get(self.total) and _get(self.free) >= (ROOM_TRIALS + 1) * size

    def _map(self, size: int) -> None:
        """Reserve an address range for `size` bytes of `self.handle` and map it read-write here."""
        fn = self.fn
        _set(self.size, size)
        self._check(fn["cuMemAddressReserve"](_byref(self.ptr), self.size, self.zero, self.zero, self.zero), "address reserve")
        if fn["cuMemMap"](self.ptr, self.size, self.zero, self.handle, self.zero) != 0:
            fn["cuMemAddressFree"](self.ptr, self.size)
            raise OSError("CUDA driver: mapping a shared allocation failed")
        if fn["cuMemSetAccess"](self.ptr, self.size, _byref(self.access), self.count) != 0:
            fn["cuMemUnmap"](self.ptr, self.size)
            fn["cuMemAddressFree"](self.ptr, self.size)
            raise OSError("CUDA driver: access to a shared allocation failed")

    def _unmap(self) -> None:
        self.fn["cuMemUnmap"](self.ptr, self.size)
        self.fn["cuMemAddressFree"](self.ptr, self.size)

    def export_copy(self, src_ptr: int, nbytes: int) -> int:
        """A descriptor of a fresh allocation holding a copy of the `nbytes` at `src_ptr` (the
        device synchronised before and after the copy); nothing of it stays mapped here."""
        fn, size = self.fn, self.padded(nbytes)
        _set(self.size, size)
        self._check(fn["cuMemCreate"](_byref(self.handle), self.size, _byref(self.prop), self.zero), "allocation")
        try:
            self._map(size)
            try:
                _set(self.src, src_ptr)
                _set(self.size, nbytes)
                # Every stream done first: torch's own streams do not wait for the legacy stream's copy.
                self._check(fn["cuCtxSynchronize"](), "synchronise")
                self._check(fn["cuMemcpyDtoD_v2"](self.ptr, self.src, self.size), "copy")
                self._check(fn["cuCtxSynchronize"](), "synchronise")
                self._check(fn["cuMemExportToShareableHandle"](_byref(self.fd), self.handle, _POSIX_FD, self.zero), "export")
            finally:
                _set(self.size, size)
                self._unmap()
        finally:
            fn["cuMemRelease"](self.handle)  # the exported descriptor keeps the memory
        self.exported += size
        return _get(self.fd)

    def import_tensor(self, fd: int, shape: list[int], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The tensor in the allocation behind `fd` (the receiver's side; `fd` is closed). The
        mapping lives as long as the tensor. OSError when `fd` is not a shareable allocation of
        at least the tensor's size."""
        numel = 1
        for d in shape:
            numel *= d
        nbytes = numel * torch.empty((), dtype=dtype).element_size()
        try:
            self._check(self.fn["cuMemImportFromShareableHandle"](_byref(self.handle), ctypes.c_void_p(fd), _POSIX_FD), "import")
        finally:
            os.close(fd)
        try:
            self._map(self.padded(max(nbytes, 1)))
        finally:
            self.fn["cuMemRelease"](self.handle)  # the mapping keeps the memory
        mapping = _Mapping(self, _get(self.ptr), _get(self.size), nbytes)
        raw = torch.as_tensor(mapping, device=device)  # torch keeps `mapping` alive with the tensor
        return raw.view(dtype).reshape(shape) if nbytes else torch.empty(shape, dtype=dtype, device=device)


class _Mapping:
    """A mapped shared allocation seen by torch (`__cuda_array_interface__`); unmapped when the
    last tensor on it is freed."""

    def __init__(self, share: DeviceShare, ptr: int, size: int, nbytes: int) -> None:
        self.share, self.ptr, self.size = share, ptr, size
        self.__cuda_array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (ptr, False), "version": 3, "strides": None}

    def __del__(self) -> None:
        fn, ptr, size = self.share.fn, ctypes.c_uint64(self.ptr), ctypes.c_size_t(self.size)
        fn["cuMemUnmap"](ptr, size)
        fn["cuMemAddressFree"](ptr, size)


_LOADED: list[DeviceShare] = []


def load(device: torch.device) -> DeviceShare | None:
    """This process's DeviceShare (made on the first call), or None where the driver cannot export
    (no libcuda, an old driver, not a CUDA device)."""
    if device.type != "cuda":
        return None
    if not _LOADED:
        try:
            _LOADED.append(DeviceShare(device.index if device.index is not None else torch.cuda.current_device()))
        except (OSError, AttributeError):
            return None
    return _LOADED[0]


def loaded() -> DeviceShare | None:
    return _LOADED[0] if _LOADED else None
