"""Under Triton's interpreter a kernel's memory is the whole host process: a pointer made from an
integer (`addr.to(tl.pointer_type(...))`), or a tensor argument's pointer moved by an offset the
host computed (`x_ptr + (buf.data_ptr() - x.data_ptr()) // 4`), reaches any Python object's bytes.
A red-team pass used that to hand the forward's inputs to plain Python (array.array, a buffer made
in `__init__`) and back, the answer computed with `math` where no guard looks.

So every load, store and atomic of an interpreted launch must touch only the storages of the
launch's own tensor arguments (masked-off lanes are not accesses). Anything else stops the launch
with an error naming the kernel: on a GPU such an access is another allocation's memory or an
illegal address, never a kernel's legitimate work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

# Per running launch (launches nest when a kernel is launched from a hook): (start, end) byte ranges.
_ranges: list[np.ndarray] = []
# Builder method -> (position of the pointer handle, position of the mask or None: every lane).
ACCESSES: dict[str, tuple[int, int | None]] = {
    "create_load": (0, None),
    "create_store": (0, None),
    "create_masked_load": (0, 1),
    "create_masked_store": (0, 2),
    "create_atomic_rmw": (1, 3),
    "create_atomic_cas": (0, None),
    "create_atomic_load": (0, 1),
    "create_atomic_store": (0, 2),
    "create_atomic_poll": (0, None),
}


# Tensor-descriptor accesses -> position of their indices: the interpreter computes their addresses
# itself (`materialize_pointers`); checked here whether or not it then goes through a masked load.
DESCRIPTOR_ACCESSES: dict[str, int] = {"create_descriptor_load": 1, "create_descriptor_store": 2}


class OutOfBoundsAccess(RuntimeError):
    pass


def _storages(value: Any) -> Iterator[tuple[int, int]]:
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _storages(item)
        return
    base = getattr(value, "base", None)  # a TensorDescriptor: its base tensor
    if base is not None and hasattr(base, "untyped_storage") and not hasattr(value, "untyped_storage"):
        yield from _storages(base)
        return
    if hasattr(value, "untyped_storage"):
        storage = value.untyped_storage()
        yield storage.data_ptr(), storage.data_ptr() + storage.nbytes()


def launch_ranges(args: tuple, kwargs: dict) -> np.ndarray:
    found = [r for value in (*args, *kwargs.values()) for r in _storages(value)]
    return np.array(found, dtype=np.uint64).reshape(-1, 2)


def push(args: tuple, kwargs: dict) -> None:
    _ranges.append(launch_ranges(args, kwargs))


def pop() -> None:
    _ranges.pop()


def _check(kernel: str, op: str, ptrs: Any, mask: Any) -> None:
    if not _ranges:
        return
    addresses = np.asarray(ptrs.data, dtype=np.uint64).ravel()
    if mask is not None:
        addresses = addresses[np.broadcast_to(np.asarray(mask.data, dtype=bool), np.shape(ptrs.data)).ravel()]
    if addresses.size == 0:
        return
    ranges = _ranges[-1]
    inside = np.zeros(addresses.shape, dtype=bool)
    for start, end in ranges:
        inside |= (addresses >= start) & (addresses < end)
    if not inside.all():
        outside = int((~inside).sum())
        raise OutOfBoundsAccess(
            f"kernel {kernel}: {op} touched {outside} address(es) outside the storages of its tensor arguments "
            "(a pointer made from an integer or moved past its tensor); a kernel may only read and write its own "
            "tensor arguments")


def _guarded(name: str, original: Callable, kernel_name: Callable[[], str]) -> Callable:
    pointer_at, mask_at = ACCESSES[name]
    params = [p for p in inspect.signature(original).parameters if p != "self"]

    def argument(args: tuple, kwargs: dict, at: int | None) -> Any:
        if at is None:
            return None
        return args[at] if at < len(args) else kwargs.get(params[at])

    def access(self, *args, **kwargs):
        _check(kernel_name(), name.removeprefix("create_"), argument(args, kwargs, pointer_at), argument(args, kwargs, mask_at))
        return original(self, *args, **kwargs)

    return access


def _guarded_descriptor(name: str, original: Callable, kernel_name: Callable[[], str]) -> Callable:
    indices_at = DESCRIPTOR_ACCESSES[name]

    def access(self, desc, *args, **kwargs):
        indices = args[indices_at - 1] if len(args) >= indices_at else kwargs.get("indices")
        ptrs, mask = desc.materialize_pointers(indices)
        _check(kernel_name(), name.removeprefix("create_"), ptrs, mask)
        return original(self, desc, *args, **kwargs)

    return access


def install(builder_cls: Any, kernel_name: Callable[[], str]) -> None:
    """Wrap the builder's memory accesses (those this Triton version has)."""
    for name in ACCESSES:
        if hasattr(builder_cls, name):
            setattr(builder_cls, name, _guarded(name, getattr(builder_cls, name), kernel_name))
    for name in DESCRIPTOR_ACCESSES:
        if hasattr(builder_cls, name):
            setattr(builder_cls, name, _guarded_descriptor(name, getattr(builder_cls, name), kernel_name))
