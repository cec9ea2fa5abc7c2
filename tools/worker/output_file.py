"""The file a candidate's worker writes an output into, and its reader: a format of the checker's
own, not `torch.save`.

Why (red team pass 12): the candidate's code shares the writer's process, and `torch.save` runs a
great deal of Python that reads state the candidate can reach: `sys.byteorder`, the serialization
config, `copyreg`'s tables, the pickler, `builtins.memoryview` and `open`. A str subclass put in
`sys.byteorder`, an int subclass in the config or a replaced `memoryview` ran the candidate's code
in the middle of the save, after the accounted call, where it wrote torch's answer into the bytes
being saved (or made the digest cover other bytes than the file got). So this writer calls only
C functions and methods captured when the worker started, on exact builtin types and on tensors it
copied itself: no pickling, no path objects, no builtins looked up at call time, and the garbage
collector is off outside accounted calls (`output_capture`), so no finaliser runs meanwhile.

The format: MAGIC, the header's length (8 bytes, little-endian), the header, then the bytes of
every tensor in header order, each (and the first after the header) starting at a multiple of
ALIGN bytes (zeros between; a tensor mapped at an unaligned offset cannot be viewed as its dtype). The header is ASCII tokens separated by spaces, a tree in prefix
order: `T dtype ndim d0 .. dn` a tensor, `L n` a list (or tuple: read back as a list, as the
comparison takes outputs; the structure is described separately) of n items, `D n` a dict of n
(`K name`, item) pairs, `I v` an int, `N` None (anything else the worker does not touch). The
reader parses it from its private, verified copy (`private_copy`) and maps the tensors on that
copy; any deviation from the format is a `MalformedOutput` (a `RewrittenFile`: the file is not what
the checker's writer makes, so the candidate's process made it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker.output_digest import hexdigest, new_hasher, output_digest, update_hasher
from kernelwright.tools.worker.private_copy import RewrittenFile, load_verified

MAGIC = b"KWOUT1\n"
ALIGN = 64
_ZEROS = bytes(ALIGN)
_WRITE_PIECE = 1 << 30  # bytes per os.write: one call writes at most about 2 GiB on Linux

# Captured before any candidate code is imported (see the module docstring).
_Tensor = torch.Tensor
_detach, _contiguous, _reshape, _view = torch.Tensor.detach, torch.Tensor.contiguous, torch.Tensor.reshape, torch.Tensor.view
_clone, _cpu, _numpy, _size = torch.Tensor.clone, torch.Tensor.cpu, torch.Tensor.numpy, torch.Tensor.size
_dtype_of = torch._C.TensorBase.__dict__["dtype"].__get__
_device_of = torch._C.TensorBase.__dict__["device"].__get__
_nbytes_of = torch._C.TensorBase.__dict__["nbytes"].__get__
_data_ptr = torch._C.TensorBase.data_ptr
_resolve_conj, _resolve_neg = torch.Tensor.resolve_conj, torch.Tensor.resolve_neg
_os_open, _os_write, _os_close, _os_replace, _os_unlink, _urandom = os.open, os.write, os.close, os.replace, os.unlink, os.urandom
_hex, _join, _encode, _isidentifier, _items = bytes.hex, str.join, str.encode, str.isidentifier, dict.items
_memoryview, _len, _type, _int_bytes = memoryview, len, type, int.to_bytes
_list, _tuple, _dict, _int, _str = list, tuple, dict, int, str
_CPU = torch.device("cpu")
_UINT8 = torch.uint8
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.complex64, torch.complex128, torch.int64,
    torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool,
    *[getattr(torch, name) for name in ("float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64") if hasattr(torch, name)])}
MAX_DEPTH, MAX_ITEMS = 32, 4096
MAX_DEVICE_SHARES = 64  # GPU tensors of one output exported as descriptors; the rest through host memory  # an output nested deeper or wider is written as None (its description says why)
_NAMES = {d: name for name, d in _DTYPES.items()}


class MalformedOutput(RewrittenFile):
    """The verified file is not in the checker's format (so the candidate's process made it)."""


def _private_bytes(t: Any) -> Any:
    """The tensor's bytes in memory only the checker holds: a contiguous host copy, as uint8."""
    raw = _view(_reshape(_contiguous(_resolve_neg(_resolve_conj(_detach(t)))), (-1,)), _UINT8)
    return _clone(raw) if _device_of(raw) == _CPU else _cpu(raw)


def _device_copy(t: Any, share: Any, fds: list[int]) -> bool:
    """Export a copy of a GPU tensor's bytes (`device_share`) where `share` has room for it; whether
    it did (its descriptor then appended to `fds`)."""
    if share is None or _device_of(t) == _CPU or _len(fds) >= MAX_DEVICE_SHARES:
        return False
    src = _contiguous(_resolve_neg(_resolve_conj(_detach(t))))  # a conjugate or negative view: its values, materialised
    nbytes = _nbytes_of(src)
    if not share.room_for(nbytes):
        return False
    fds.append(share.export_copy(_data_ptr(src), nbytes))
    return True


def _all_names(value: dict) -> bool:
    """Whether every key is an identifier, as in the checker's own records; a candidate's dict that
    is not is written as None (its description says what it was: red team pass 16 crashed the
    worker with `{1: y}`)."""
    for key in value:
        if _type(key) is not _str or not _isidentifier(key):
            return False
    return True


def _walk(value: Any, tokens: list[str], data: list[Any], depth: int = 0, share: Any = None, fds: Any = None) -> None:
    kind = _type(value)
    if depth > MAX_DEPTH or ((kind is _list or kind is _tuple) and _len(value) > MAX_ITEMS):
        tokens.append("N")
    elif kind is _Tensor and _dtype_of(value) in _NAMES:
        shape = _size(value)
        on_device = _device_copy(value, share, fds) if fds is not None else False
        tokens += ["G" if on_device else "T", _NAMES[_dtype_of(value)], f"{_len(shape)}", *[f"{d}" for d in shape]]
        if not on_device:
            data.append(_private_bytes(value))
    elif kind is _list or kind is _tuple:
        tokens += ["L", f"{_len(value)}"]
        for item in value:
            _walk(item, tokens, data, depth + 1, share, fds)
    elif kind is _dict and _all_names(value):
        pairs = _items(value)
        tokens += ["D", f"{_len(pairs)}"]
        for key, item in pairs:
            tokens += ["K", key]
            _walk(item, tokens, data, depth + 1, share, fds)
    elif kind is _int:
        tokens += ["I", f"{value}"]
    else:
        tokens.append("N")


def encode(value: Any, share: Any = None, fds: list[int] | None = None) -> tuple[bytes, list[Any]]:
    """The header of `value` and the host copies of its tensors, in header order: what the
    writers put in a file (`write_output`) or a sealed memory file (`output_share`). With `fds`
    (a list to fill) and a `device_share.DeviceShare`, GPU tensors it has room for are exported
    instead (item `G`: their bytes are the next descriptor in `fds`, not in the file)."""
    tokens: list[str] = []
    data: list[Any] = []
    _walk(value, tokens, data, 0, share, fds)
    return _encode(_join(" ", tokens), "ascii"), data


def write_encoded(fd: int, header: bytes, data: list[Any], hasher: Any = None) -> None:
    """The format's bytes to `fd` (hashed on the way when a hasher is given)."""
    at = 0
    for piece in (MAGIC, _int_bytes(_len(header), 8, "little"), header):
        at += _write_all(fd, _memoryview(piece), hasher)
    for host in data:
        at += _write_all(fd, _memoryview(_ZEROS)[:-at % ALIGN], hasher)
        at += _write_all(fd, _memoryview(_numpy(host)), hasher)


def write_output(path: str | Path, value: Any) -> str:
    """Write `value` (exact tensors, lists, tuples, checker dicts, ints; anything else as None) to
    `path` atomically; the digest of the bytes written. The bytes are copied first, so what is
    hashed and written is the checker's copy, which nothing of the candidate's holds."""
    final = f"{path}"  # the caller's path: a str or a Path made by the checker
    header, data = encode(value)
    partial = f"{final}.{_hex(_urandom(8))}.partial"  # a name no one can make in advance (a FIFO there would block)
    fd = _os_open(partial, _OPEN_FLAGS, 0o600)
    hasher = new_hasher()
    try:
        write_encoded(fd, header, data, hasher)
    except BaseException:
        _os_close(fd)
        _os_unlink(partial)
        raise
    _os_close(fd)
    _os_replace(partial, final)
    return hexdigest(hasher)


def _write_all(fd: int, view: Any, hasher: Any) -> int:
    if hasher is not None:
        update_hasher(hasher, view)  # the same buffer object is hashed and written
    done, total = 0, _len(view)
    while done < total:
        done += _os_write(fd, view[done:done + _WRITE_PIECE])
    return total


def read_output(path: Path, signed: str) -> Any:
    """The value `write_output` wrote to `path`, only if the file holds exactly the bytes whose
    digest the worker signed (RewrittenFile otherwise, MalformedOutput for signed bytes that are
    not in the format); the tensors are mapped on the reader's verified private copy."""
    return load_verified(Path(path), signed, output_digest, parse)


def header_bytes(buffer: Any) -> bytes:
    """The header of a buffer holding the format's bytes (MalformedOutput where there is none)."""
    size = _len(buffer)
    if size < _len(MAGIC) + 8 or bytes(buffer[:_len(MAGIC)]) != MAGIC:
        raise MalformedOutput("the output file is not in the checker's format")
    at = _len(MAGIC)
    length = int.from_bytes(bytes(buffer[at:at + 8]), "little")
    if length > size - at - 8:
        raise MalformedOutput("the output file's header runs past its end")
    return bytes(buffer[at + 8:at + 8 + length])


def parse(buffer: Any, fds: list[int] | None = None, share: Any = None, device: Any = None) -> Any:
    """The value in a buffer holding the format's bytes (MalformedOutput where they are not). Items
    `G` take the next of `fds`, imported by `share` onto `device`; every one of `fds` is closed
    here, whatever happens (the caller gives them up)."""
    pending = list(fds or [])  # the reader takes from this list; what it leaves is closed below
    try:
        size = _len(buffer)
        header = header_bytes(buffer)
        length, at = _len(header), _len(MAGIC) + 8
        try:
            tokens = header.decode("ascii").split(" ") if length else []
        except UnicodeDecodeError as exc:
            raise MalformedOutput("the output file's header is not ASCII") from exc
        reader = _Reader(tokens, buffer, at + length, pending, share, device)
        value = reader.value()
        if reader.next_token < len(tokens) or reader.offset != size or pending:
            raise MalformedOutput("the output file has more than its header describes")
        return value
    finally:
        for fd in pending:
            os.close(fd)


class _Reader:
    def __init__(self, tokens: list[str], buffer: Any, offset: int, fds: list[int], share: Any, device: Any) -> None:
        self.tokens, self.buffer, self.offset, self.next_token = tokens, buffer, offset, 0
        self.fds, self.share, self.device = fds, share, device

    def token(self) -> str:
        if self.next_token >= len(self.tokens):
            raise MalformedOutput("the output file's header ends early")
        self.next_token += 1
        return self.tokens[self.next_token - 1]

    def count(self) -> int:
        text = self.token()
        if not text.isdigit() or len(text) > 19:
            raise MalformedOutput(f"the output file's header has {text[:20]!r} where a count belongs")
        return int(text)

    def value(self) -> Any:
        kind = self.token()
        if kind == "T":
            return self.tensor()
        if kind == "G":
            return self.device_tensor()
        if kind == "L":
            return [self.value() for _ in range(self.count())]
        if kind == "D":
            out = {}
            for _ in range(self.count()):
                if self.token() != "K":
                    raise MalformedOutput("the output file's header has a dict item without its key")
                key = self.token()
                out[key] = self.value()
            return out
        if kind == "I":
            text = self.token()
            try:
                return int(text)
            except ValueError:
                raise MalformedOutput(f"the output file's header has {text[:20]!r} where an int belongs") from None
        if kind == "N":
            return None
        raise MalformedOutput(f"the output file's header has an unknown item {kind[:20]!r}")

    def dtype_and_shape(self) -> tuple[torch.dtype, list[int]]:
        dtype = _DTYPES.get(self.token())
        if dtype is None:
            raise MalformedOutput("the output file's header names an unknown dtype")
        return dtype, [self.count() for _ in range(self.count())]

    def device_tensor(self) -> torch.Tensor:
        dtype, shape = self.dtype_and_shape()
        if not self.fds or self.share is None:
            raise MalformedOutput("the output file names a tensor on the device that did not come with it")
        try:
            return self.share.import_tensor(self.fds.pop(0), shape, dtype, self.device)
        except OSError as exc:
            raise MalformedOutput(f"a tensor on the device that came with the output cannot be mapped ({exc})") from None

    def tensor(self) -> torch.Tensor:
        dtype, shape = self.dtype_and_shape()
        numel = 1
        for d in shape:
            numel *= d
        nbytes = numel * torch.empty((), dtype=dtype).element_size()
        pad = -self.offset % ALIGN
        if any(self.buffer[self.offset:self.offset + pad]):
            raise MalformedOutput("the output file has bytes between its tensors")
        self.offset += pad
        if nbytes == 0:
            return torch.empty(shape, dtype=dtype)
        if nbytes > len(self.buffer) - self.offset:
            raise MalformedOutput("the output file is shorter than its header describes")
        raw = torch.frombuffer(self.buffer, dtype=torch.uint8, count=nbytes, offset=self.offset)
        self.offset += nbytes
        return raw.view(dtype).reshape(shape)


def check_described(value: Any, description: Any, where: str = "the output") -> None:
    """Raise MalformedOutput unless `value` (as `read_output` gave it) has the structure the signed
    `description` (an `events.OutputDescription`) names: a tensor of its shape and dtype, a list of
    its items, None for any other type. Both came from the candidate's process, so a mismatch means
    its writer was not the checker's."""
    kind = description.type
    if kind in ("tuple", "list"):
        items = description.items or []
        if not isinstance(value, list) or len(value) != len(items):
            raise MalformedOutput(f"{where} in the file is not the {kind} of {len(items)} items the worker described")
        for i, (item, described) in enumerate(zip(value, items)):
            check_described(item, described, f"{where}[{i}]")
    elif kind == "torch.Tensor":
        if (type(value) is not torch.Tensor or list(value.shape) != description.shape
                or str(value.dtype).removeprefix("torch.") != description.dtype):
            raise MalformedOutput(f"{where} in the file is not the {description.dtype} tensor of shape {description.shape} the worker described")
    elif value is not None:
        raise MalformedOutput(f"{where} in the file is not the {kind} the worker described")

