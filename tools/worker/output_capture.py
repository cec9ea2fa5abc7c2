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

import gc
from typing import Any

import torch

_Tensor = torch.Tensor
_detach, _as_subclass, _cpu = torch.Tensor.detach, torch.Tensor.as_subclass, torch.Tensor.cpu
_contiguous, _reshape, _view = torch.Tensor.contiguous, torch.Tensor.reshape, torch.Tensor.view
_untyped_storage = torch._C.TensorBase.untyped_storage
# C getters of TensorBase and StorageBase (immutable C types): a property or method the candidate's
# code puts on torch.Tensor or torch.UntypedStorage (Python classes) is never looked up here (red
# team pass 13 ran a self-removing `numel`, `device` and `data_ptr` in these steps).
_shape_of = torch._C.TensorBase.__dict__["shape"].__get__
_dtype_of = torch._C.TensorBase.__dict__["dtype"].__get__
_device_of = torch._C.TensorBase.__dict__["device"].__get__
_numel = torch._C.TensorBase.numel
_data_ptr, _nbytes = torch._C.StorageBase.data_ptr, torch._C.StorageBase.nbytes
_type_name = type.__dict__["__name__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_str, _list, _tuple, _sorted, _enumerate, _isinstance, _any, _len = str, list, tuple, sorted, enumerate, isinstance, any, len
_UINT8 = torch.uint8
_instance_dict = object.__getattribute__
_gc_enable, _gc_disable, _gc_collect, _gc_freeze = gc.enable, gc.disable, gc.collect, gc.freeze
_type = type


def freeze_worker_objects() -> None:
    """Before the candidate's code loads: the worker's objects leave the collector's view, and
    automatic collection stops (it runs again only inside `collected`). No collection first: with
    torch and Triton loaded it takes 0.1 s, and the worker's garbage of now only stays in memory."""
    _gc_freeze()
    _gc_disable()


class collected:  # noqa: N801 - used as `with collected():`, like the function it replaced
    """Collect inside the accounting: a finaliser the forward left behind runs here, counted.
    A class of the checker's, not a contextlib generator: `contextlib`'s classes are the
    candidate's to change, and their exit runs after the forward (red team pass 14)."""

    def __enter__(self) -> None:
        _gc_enable()

    def __exit__(self, *exc: Any) -> None:
        _gc_collect()
        _gc_disable()


def attributes_set(values: Any, where: str) -> str | None:
    """Why `values` (an output or an input, walked through exact tuples and lists) is not plain:
    a tensor carrying instance attributes, which shadow the tensor's methods for anyone who calls
    them on the object. None when there is none."""
    kind = _type(values)
    if kind is _Tensor:
        own = _instance_dict(values, "__dict__")
        return f"{where} carries instance attributes {_sorted(own)}" if own else None
    if kind is _tuple or kind is _list:
        for i, item in _enumerate(values):
            why = attributes_set(item, f"{where}[{i}]")
            if why:
                return why
    return None


MAX_DEPTH, MAX_ITEMS = 32, 4096  # beyond them a container is named, not listed (red team pass 15: a
# list nested 300 deep overflowed the parent's reader; 3 million items ran it out of memory)


def output_description(out: Any, depth: int = 0) -> dict[str, Any]:
    """Exact type, structure, shapes, dtypes and devices of what the forward returned; a subclass
    of tuple, list or Tensor is named by its own module and name, never walked."""
    kind = _type(out)
    if kind is _tuple or kind is _list:
        if depth >= MAX_DEPTH or _len(out) > MAX_ITEMS:
            return {"type": f"{_type_name(kind)}<deeper-than-{MAX_DEPTH}-or-over-{MAX_ITEMS}-items>"}
        return {"type": _type_name(kind), "items": [output_description(o, depth + 1) for o in out]}
    if kind is _Tensor:
        return {"type": "torch.Tensor", "shape": _list(_shape_of(out)), "dtype": _str(_dtype_of(out)).removeprefix("torch."),
                "device": _str(_device_of(out))}
    return {"type": f"{_type_module(kind)}.{_type_qualname(kind)}"}


def plain_cpu(out: Any) -> Any:
    """Outputs as plain CPU tensors for the comparison (bits preserved; tuples become lists: the
    structure is described separately); None for anything that is not an exact tensor or list."""
    kind = _type(out)
    if kind is _Tensor:
        return _cpu(_detach(out))
    if kind is _tuple or kind is _list:
        return [plain_cpu(o) for o in out]
    return None


def same_bits(a: Any, b: Any, equal: Any) -> bool:
    """Bitwise equality (NaN-safe) for exact tensors, through the captured methods; `equal` is the
    worker's captured torch.equal. Plain equality for what is not a tensor."""
    if _type(a) is _Tensor and _type(b) is _Tensor:
        if _shape_of(a) != _shape_of(b) or _dtype_of(a) != _dtype_of(b):
            return False
        if _numel(a) == 0:
            return True
        return equal(_view(_reshape(_contiguous(a), -1), _UINT8), _view(_reshape(_contiguous(b), -1), _UINT8))
    if _isinstance(a, _Tensor) or _isinstance(b, _Tensor):
        return False  # a subclass where the worker put a tensor: not the input it was given
    return a == b


def tensors_of(out: Any) -> list[torch.Tensor]:
    """The exact tensors of an output, through exact tuples and lists."""
    kind = _type(out)
    if kind is _Tensor:
        return [out]
    if kind is _tuple or kind is _list:
        return [t for item in out for t in tensors_of(item)]
    return []


def _span(t: torch.Tensor) -> tuple[str, int, int]:
    storage = _untyped_storage(t)
    return _str(_device_of(t)), _data_ptr(storage), _data_ptr(storage) + _nbytes(storage)


def shares_memory(out: Any, earlier: list[torch.Tensor]) -> bool:
    """Whether an output's memory overlaps the memory of an earlier call's output, still held (so
    no allocator handed the same block out again): a forward that returns one persistent buffer
    overwrites, at its next call, what its caller kept (red team pass 8; the saved copy of each
    output hid it from the per-call comparison)."""
    spans = [_span(t) for t in earlier if _numel(t)]
    for t in tensors_of(out):
        if not _numel(t):
            continue
        device, start, end = _span(t)
        if _any(device == d and start < e and s < end for d, s, e in spans):
            return True
    return False
