"""What the candidate's worker does with a forward's output and inputs once the call returned,
written so that none of the candidate's code runs outside the accounting (red team, eighth pass).

The accounting closes when the forward returns; everything after it (describing the output,
copying it to the host, pickling it, comparing the inputs bit for bit) ran with the guards off,
and four cheats put their torch compute there: a `tuple` subclass named `tuple` whose `__iter__`
computed the answer while the worker copied the items; an instance attribute `y.detach = ...`
on the returned tensor (and `x.contiguous = ...` on an input, hiding an in-place write from the
input check); a reference cycle whose `__del__` ran in the worker's next allocation; a
replaced `pickle.Pickler` (sealed now: `candidate_inputs.seal_worker_names`). So:

- only exact `torch.Tensor`, `tuple` and `list` objects are walked, copied or saved; anything else
  is described by its type and never touched (the parent rejects it as the wrong type);
- a tensor the forward returned or received may carry no instance attributes;
- tensor methods are called through the class captured here, never through the object;
- the garbage collector runs only inside the accounted call (`collected`): enabled for the
  forward, a full collection before the accounting closes, disabled outside it. Objects that
  existed before the candidate's code loaded are frozen (`freeze_worker_objects`), so that
  collection scans only what came after.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import torch

_Tensor = torch.Tensor
_detach, _as_subclass, _cpu = torch.Tensor.detach, torch.Tensor.as_subclass, torch.Tensor.cpu
_contiguous, _reshape, _view = torch.Tensor.contiguous, torch.Tensor.reshape, torch.Tensor.view
_untyped_storage = torch.Tensor.untyped_storage
_instance_dict = object.__getattribute__
_gc_enable, _gc_disable, _gc_collect, _gc_freeze = gc.enable, gc.disable, gc.collect, gc.freeze
_type = type


def freeze_worker_objects() -> None:
    """Before the candidate's code loads: the worker's objects leave the collector's view, and
    automatic collection stops (it runs again only inside `collected`). No collection first: with
    torch and Triton loaded it takes 0.1 s, and the worker's garbage of now only stays in memory."""
    _gc_freeze()
    _gc_disable()


@contextlib.contextmanager
def collected() -> Iterator[None]:
    """Collect inside the accounting: a finaliser the forward left behind runs here, counted."""
    _gc_enable()
    try:
        yield
    finally:
        _gc_collect()
        _gc_disable()


def attributes_set(values: Any, where: str) -> str | None:
    """Why `values` (an output or an input, walked through exact tuples and lists) is not plain:
    a tensor carrying instance attributes, which shadow the tensor's methods for anyone who calls
    them on the object. None when there is none."""
    kind = _type(values)
    if kind is _Tensor:
        own = _instance_dict(values, "__dict__")
        return f"{where} carries instance attributes {sorted(own)}" if own else None
    if kind is tuple or kind is list:
        for i, item in enumerate(values):
            why = attributes_set(item, f"{where}[{i}]")
            if why:
                return why
    return None


def output_description(out: Any) -> dict[str, Any]:
    """Exact type, structure, shapes, dtypes and devices of what the forward returned; a subclass
    of tuple, list or Tensor is named by its own module and name, never walked."""
    kind = _type(out)
    if kind is tuple or kind is list:
        return {"type": kind.__name__, "items": [output_description(o) for o in out]}
    if kind is _Tensor:
        return {"type": "torch.Tensor", "shape": list(out.shape), "dtype": str(out.dtype).removeprefix("torch."), "device": str(out.device)}
    return {"type": f"{kind.__module__}.{kind.__qualname__}"}


def plain_cpu(out: Any) -> Any:
    """Outputs as plain CPU tensors for the comparison (bits preserved; tuples become lists: the
    structure is described separately); None for anything that is not an exact tensor or list."""
    kind = _type(out)
    if kind is _Tensor:
        return _cpu(_detach(out))
    if kind is tuple or kind is list:
        return [plain_cpu(o) for o in out]
    return None


def same_bits(a: Any, b: Any, equal: Any) -> bool:
    """Bitwise equality (NaN-safe) for exact tensors, through the captured methods; `equal` is the
    worker's captured torch.equal. Plain equality for what is not a tensor."""
    if _type(a) is _Tensor and _type(b) is _Tensor:
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.numel() == 0:
            return True
        return equal(_view(_reshape(_contiguous(a), -1), torch.uint8), _view(_reshape(_contiguous(b), -1), torch.uint8))
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return False  # a subclass where the worker put a tensor: not the input it was given
    return a == b


def tensors_of(out: Any) -> list[torch.Tensor]:
    """The exact tensors of an output, through exact tuples and lists."""
    kind = _type(out)
    if kind is _Tensor:
        return [out]
    if kind is tuple or kind is list:
        return [t for item in out for t in tensors_of(item)]
    return []


def _span(t: torch.Tensor) -> tuple[str, int, int]:
    storage = _untyped_storage(t)
    return str(t.device), storage.data_ptr(), storage.data_ptr() + storage.nbytes()


def shares_memory(out: Any, earlier: list[torch.Tensor]) -> bool:
    """Whether an output's memory overlaps the memory of an earlier call's output, still held (so
    no allocator handed the same block out again): a forward that returns one persistent buffer
    overwrites, at its next call, what its caller kept (red team pass 8; the saved copy of each
    output hid it from the per-call comparison)."""
    spans = [_span(t) for t in earlier if t.numel()]
    for t in tensors_of(out):
        if not t.numel():
            continue
        device, start, end = _span(t)
        if any(device == d and start < e and s < end for d, s, e in spans):
            return True
    return False
