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

# Captured before any candidate code is imported (the digest of what a worker saved must not go
# through functions the candidate's process could have replaced).
_contiguous, _as_numpy, _sha256 = torch.Tensor.contiguous, torch.Tensor.numpy, hashlib.sha256
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


def clone_inputs(values: list[Any]) -> list[Any]:
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


def same_bits(a: Any, b: Any) -> bool:
    """Bitwise equality (NaN-safe) for tensors; plain equality otherwise."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.numel() == 0:
            return True
        return _equal(a.contiguous().reshape(-1).view(torch.uint8), b.contiguous().reshape(-1).view(torch.uint8))
    return a == b


def plain_cpu(out: Any) -> Any:
    """Outputs as plain CPU tensors for the parent (bits preserved, subclasses stripped; tuples
    become lists: the structure is described separately)."""
    if isinstance(out, torch.Tensor):
        return out.detach().as_subclass(torch.Tensor).cpu()
    if isinstance(out, (tuple, list)):
        return [plain_cpu(o) for o in out]
    return None


class CheckerSideError(Exception):
    """Raised in a worker when the checker's machinery (not the problem's or the candidate's code)
    fails: the file could not be written, the checker ran out of memory."""


def save_tensors(path: Path, values: Any, digest: bool = False) -> str | None:
    """Write atomically: a full disk leaves no truncated file under the final name, and the
    failure is the checker's (CheckerSideError), never mistaken for the reference failing.

    With `digest`, returns the digest of what was written (`content_digest`), for files written in
    a process that runs a candidate: the worker signs it in its event log,
    so a file that code in its process rewrites afterwards (a finaliser, an exit hook) no longer
    matches what the parent loads (`load_tensors(path, sha256)`). torch.save writes straight to the
    file: through an in-memory buffer a 1 GiB tensor took 13 s (the buffer grows by copies)."""
    partial = path.with_name(path.name + ".partial")
    try:
        signed = content_digest(values) if digest else None
        torch.save(values, partial)
        os.replace(partial, path)
        return signed
    except Exception as exc:  # noqa: BLE001 - torch.save raises RuntimeError or OSError when the disk fills
        partial.unlink(missing_ok=True)
        raise CheckerSideError(f"could not write {path.name}: {type(exc).__name__}: {str(exc)[:300]}") from exc


def is_checker_side(exc: BaseException) -> bool:
    """A failure of the checker's machinery: a file it could not write, memory it could not get."""
    out_of_memory = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, (CheckerSideError, MemoryError, out_of_memory))


class RewrittenFile(TamperedLog):
    """A file a worker saved no longer holds the bytes its signed event log names."""


def load_tensors(path: Path, sha256: str | None = None) -> Any:
    """Tensors from a file; with `sha256` (the digest a worker signed), only if what was loaded is
    exactly what the worker wrote. The digest is taken of the loaded values, in this process's own
    memory, so a file rewritten while it is read cannot pass either."""
    values = torch.load(path, weights_only=True, map_location="cpu")
    if sha256 is not None and content_digest(values, threads=min(8, os.cpu_count() or 1)) != sha256:
        raise RewrittenFile(f"{Path(path).name} was rewritten after the checker saved it (its SHA-256 differs from the signed record)")
    return values


def content_digest(values: Any, threads: int = 1) -> str:
    """SHA-256 of a saved structure's content: every tensor's dtype, shape and bytes (as the SHA-256
    of each 64 MiB chunk, so a reader can hash chunks in parallel and get the same digest), the
    nesting of lists, tuples and dicts, and plain values, in order. Independent of the file's
    layout, so the reader hashes what it loaded instead of reading the file twice. `threads` > 1
    only where the checker's own threads are not counted against a candidate (the parent)."""
    chunks: list[memoryview] = []
    h = _sha256()
    _feed(h, values, chunks)
    if threads > 1 and len(chunks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:  # hashlib releases the GIL on large buffers
            hashed = list(pool.map(lambda chunk: _sha256(chunk).digest(), chunks))
    else:
        hashed = [_sha256(chunk).digest() for chunk in chunks]
    h.update(b"".join(hashed))
    return h.hexdigest()


DIGEST_CHUNK = 64 << 20


def _feed(h: Any, value: Any, chunks: list[memoryview]) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        flat = _contiguous(t.resolve_conj().resolve_neg()).reshape(-1)
        data = memoryview(_as_numpy(flat.view(torch.uint8))) if flat.numel() else memoryview(b"")
        h.update(f"T{t.dtype}{tuple(t.shape)}:{len(chunks)};".encode())
        chunks.extend(data[i:i + DIGEST_CHUNK] for i in range(0, len(data), DIGEST_CHUNK))
    elif isinstance(value, (list, tuple)):
        h.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)};".encode())
        for item in value:
            _feed(h, item, chunks)
    elif isinstance(value, dict):
        h.update(f"D{len(value)};".encode())
        for key, item in value.items():
            h.update(f"{key!r}=".encode())
            _feed(h, item, chunks)
    else:
        h.update(f"V{type(value).__name__}:{value!r};".encode())


def error_text(exc: BaseException, limit: int = 4000) -> str:
    """The exception with the end of its traceback, capped."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-limit:]


# Captured before any candidate code is imported: a candidate that patches torch.equal
# afterwards does not change how the worker compares (the event log's json is captured likewise).
_equal = torch.equal


def device_sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
