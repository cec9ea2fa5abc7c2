"""Helpers shared by the child-process workers: module loading, seeding, tensor I/O, events.

The signed event log and the parent's signed commands live in `signed` (no torch: the parent
imports them too); they are re-exported here for the workers."""

from __future__ import annotations

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


def save_tensors(path: Path, values: Any) -> None:
    """Write atomically (the checker's own files: inputs, weights, the reference's outputs; a
    candidate's outputs go through `output_file.write_output`): a full disk leaves no truncated file
    under the final name, and the failure is the checker's (CheckerSideError), never mistaken for
    the reference failing. torch.save writes to the file as it goes: through an in-memory buffer a
    1 GiB tensor took 13 s (the buffer grows by copies)."""
    partial = path.with_name(path.name + ".partial")
    _no_zip_checksums()
    try:
        with open(partial, "wb") as f:
            torch.save(values, f)
        os.replace(partial, path)
    except Exception as exc:  # noqa: BLE001 - torch.save raises RuntimeError or OSError when the disk fills
        partial.unlink(missing_ok=True)
        raise CheckerSideError(f"could not write {path.name}: {type(exc).__name__}: {str(exc)[:300]}") from exc


def _no_zip_checksums() -> None:
    """torch.save's CRC-32 of each record cost 3.3 of the 4.1 s it took to save 1 GiB here; the
    checker's files are written and read by the checker only, and torch.load reads them either way."""
    if _SERIALIZATION is not None and hasattr(_SERIALIZATION.save, "compute_crc32"):
        _SERIALIZATION.save.compute_crc32 = False


def is_checker_side(exc: BaseException) -> bool:
    """A failure of the checker's machinery: a file it could not write, memory it could not get."""
    out_of_memory = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    return isinstance(exc, (CheckerSideError, MemoryError, out_of_memory))


def load_tensors(path: Path) -> Any:
    """Tensors from a file the checker wrote (never a candidate's output: `output_file.read_output`)."""
    return torch.load(path, weights_only=True, map_location="cpu")


def error_text(exc: BaseException, limit: int = 4000) -> str:
    """The exception with the end of its traceback, capped."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-limit:]


_cuda_synchronize = torch.cuda.synchronize  # captured: it runs between a call and the checks after it


def device_sync(device: torch.device) -> None:
    if device.type == "cuda":
        _cuda_synchronize(device)


def device_free(device: torch.device) -> int:
    """Bytes a new allocation on `device` can have: the driver's free memory and the blocks this
    process's allocator caches unused."""
    free, _ = torch.cuda.mem_get_info(device)
    return free + torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
