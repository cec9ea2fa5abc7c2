"""Helpers shared by the child-process workers: module loading, seeding, tensor I/O, events.

The signed event log and the parent's signed commands live in `signed` (no torch: the parent
imports them too); they are re-exported here for the workers."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import sys
import traceback
import types
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker.private_copy import (  # noqa: F401 - re-exported for the workers
    RewrittenFile,
    load_verified,
    read_regular_file,
)
from kernelwright.tools.worker.signed import (  # noqa: F401 - re-exported for the workers
    KEY_BYTES,
    Commands,
    EventLog,
    TamperedLog,
    command_line,
    read_event_bodies,
    sha256_hex,
    write_json_atomic,
)

# OpenSSL's constructor, captured before any candidate code is imported (the digest of what a
# worker saved must not go through functions the candidate's process could have replaced).
_sha256 = hashlib.sha256
try:  # imported with the worker, before the candidate (an import later would run its import hooks)
    from torch.utils.serialization import config as _SERIALIZATION
except ImportError:  # a torch without the setting
    _SERIALIZATION = None
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def load_module(name: str, path: str, source: str | None = None) -> types.ModuleType:
    """Import a file as a module. `source` replaces the file's text (shape variants) while the
    module keeps the real path, so Triton's JIT can still read kernel sources from it."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    if source is None:
        spec.loader.exec_module(module)
    else:
        exec(compile(source, path, "exec"), module.__dict__)
    return module


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover
        pass


def as_list(values: Any) -> list[Any]:
    return list(values) if isinstance(values, (list, tuple)) else [values]


def generate_inputs(module: Any, device: torch.device) -> list[Any]:
    """get_inputs() with factory functions defaulting to `device`: on a GPU, random inputs of
    hundreds of MB are drawn there in milliseconds instead of seconds on the host."""
    with torch.device(device):
        return as_list(module.get_inputs())


def cast_inputs(values: list[Any], device: torch.device, dtype: torch.dtype | None) -> list[Any]:
    """Move tensors to the device; cast only floating tensors to the chosen precision."""
    out = []
    for v in values:
        if isinstance(v, torch.Tensor):
            v = v.to(device)
            if dtype is not None and v.is_floating_point():
                v = v.to(dtype)
        out.append(v)
    return out


def tensor_bytes(values: Any) -> int:
    """The bytes of the tensors in `values` (nested lists and tuples), storage overhead aside."""
    if isinstance(values, torch.Tensor):
        return values.numel() * values.element_size()
    if isinstance(values, (list, tuple)):
        return sum(tensor_bytes(v) for v in values)
    return 0


def clone_inputs(values: list[Any]) -> list[Any]:
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


class CheckerSideError(Exception):
    """Raised in a worker when the checker's machinery (not the problem's or the candidate's code)
    fails: the file could not be written, the checker ran out of memory."""


def save_tensors(path: Path, values: Any, digest: bool = False) -> str | None:
    """Write atomically: a full disk leaves no truncated file under the final name, and the
    failure is the checker's (CheckerSideError), never mistaken for the reference failing.

    With `digest` (files written in a process that runs a candidate), returns the digest of the
    bytes as they went to the file (`chunked_sha256`): the worker signs it in its event log, so a
    file that code in its process rewrites afterwards (a finaliser, an exit hook) no longer
    matches, and the parent refuses it before unpickling anything (`load_tensors(path, sha256)`).
    torch.save writes to the file as it goes: through an in-memory buffer a 1 GiB tensor took 13 s
    (the buffer grows by copies)."""
    partial = path.with_name(path.name + ".partial")
    _no_zip_checksums()
    try:
        with open(partial, "wb") as f:
            sink = _HashingWriter(f) if digest else f
            torch.save(values, sink)
        os.replace(partial, path)
        return sink.hexdigest() if isinstance(sink, _HashingWriter) else None
    except Exception as exc:  # noqa: BLE001 - torch.save raises RuntimeError or OSError when the disk fills
        partial.unlink(missing_ok=True)
        raise CheckerSideError(f"could not write {path.name}: {type(exc).__name__}: {str(exc)[:300]}") from exc


def _no_zip_checksums() -> None:
    """torch.save's CRC-32 of each record cost 3.3 of the 4.1 s it took to save 1 GiB here (6.4 GB
    outputs a trial at KernelBench's sizes); the files' integrity is the signed SHA-256's job
    (`load_tensors`), and torch.load reads them either way. Set at each save: the candidate's code
    could turn it back on (it would only slow its own check)."""
    if _SERIALIZATION is not None and hasattr(_SERIALIZATION.save, "compute_crc32"):
        _SERIALIZATION.save.compute_crc32 = False


DIGEST_CHUNK = 4 << 20  # bytes a piece: the reader hashes them on threads, many pieces keep its threads busy


class _HashingWriter:
    """A file that hashes what is written to it in DIGEST_CHUNK pieces, as `chunked_sha256` does.
    On the writing thread only: this runs in the candidate's process, where a thread of the
    checker's would be one its code could reach (a work queue to run hidden work on, a thread hook
    run at the thread's start) and one the threads guard would no longer see start."""

    def __init__(self, file: Any) -> None:
        self.file, self.digests, self.chunk, self.filled = file, [], _sha256(), 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        at = 0
        while at < len(view):
            take = min(DIGEST_CHUNK - self.filled, len(view) - at)
            self.chunk.update(view[at:at + take])
            self.filled += take
            at += take
            if self.filled == DIGEST_CHUNK:
                self.digests.append(self.chunk.digest())
                self.chunk, self.filled = _sha256(), 0
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()

    def hexdigest(self) -> str:
        return _sha256(b"".join([*self.digests, *([self.chunk.digest()] if self.filled else [])])).hexdigest()


def chunked_sha256(data: bytes | memoryview, threads: int = 1) -> str:
    """SHA-256 of the SHA-256s of each DIGEST_CHUNK piece of `data`: the same value a worker's
    `_HashingWriter` got, computed here with `threads` (hashlib releases the GIL on large pieces)."""
    view = memoryview(data).cast("B")
    pieces = [view[i:i + DIGEST_CHUNK] for i in range(0, len(view), DIGEST_CHUNK)]
    if threads > 1 and len(pieces) > 1:
        from concurrent.futures import ThreadPoolExecutor  # the parent's and reference worker's side only

        with ThreadPoolExecutor(threads) as pool:
            digests = list(pool.map(lambda piece: _sha256(piece).digest(), pieces))
    else:
        digests = [_sha256(piece).digest() for piece in pieces]
    return _sha256(b"".join(digests)).hexdigest()


def is_checker_side(exc: BaseException) -> bool:
    """A failure of the checker's machinery: a file it could not write, memory it could not get."""
    out_of_memory = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, (CheckerSideError, MemoryError, out_of_memory))


def load_tensors(path: Path, sha256: str | None = None) -> Any:
    """Tensors from a file; with `sha256` (the digest a worker signed), only if the file still holds
    exactly the bytes the worker wrote: copied into memory only this process reaches, hashed
    there in parallel, and only then loaded, from that copy (`private_copy`; a rewritten file
    never reaches the unpickler)."""
    if sha256 is None:
        return torch.load(path, weights_only=True, map_location="cpu")
    return load_verified(Path(path), sha256, lambda data: chunked_sha256(data, threads=min(8, os.cpu_count() or 1)))


def error_text(exc: BaseException, limit: int = 4000) -> str:
    """The exception with the end of its traceback, capped."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-limit:]


def device_sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_free(device: torch.device) -> int:
    """Bytes a new allocation on `device` can have: the driver's free memory and the blocks this
    process's allocator caches unused."""
    free, _ = torch.cuda.mem_get_info(device)
    return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
