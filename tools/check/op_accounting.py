"""Op accounting in the candidate's process: what the forward computed outside the solution's kernels.

`OpAccountant` is a TorchDispatchMode entered around each checked call. It sees every aten op the
forward executes, whoever called it: the forward itself, a Triton grid callable, a launch or
autotune hook, a `Config` pre-hook, a tensor subclass's `__torch_function__`, Triton's own launch
machinery. Nothing is exempt from counting: Triton's launch machinery does only data movement
(measured under the interpreter: `new_empty`, `set_`, `empty`, `copy_`; the autotuner and
`do_bench`: `empty`, `zero_`, `clone`), which is allowed whoever does it. It records
- compute ops: aten ops outside the allowed data-movement set, and any op that a tensor subclass
  with its own `__torch_dispatch__` handles (that handler runs with this mode switched off, so
  whatever it computes would be invisible);
- host reads: `_local_scalar_dense` (`.item()`, `float()`, `int()`, `bool()`, `tolist()`,
  element reads) of the call's inputs or of anything the forward produced, and `Tensor.numpy`,
  `__array__`, `__dlpack__`, DLPack exports of them, and `Tensor.apply_`/`map_`/`map2_`
  (Python run per element) at all: values that leave the tensors for Python arithmetic are
  compute outside the kernels. Reading a parameter (`float(self.scale)`) is no host compute;
- bytes moved by allowed copying ops (`contiguous`, `cat`, `pad`, casts, ...), for the timing
  guards: a copy is real work in the timed window;
- and it fills every fresh allocation with the call's poison pattern (see `poison`).
Allowed ops are recognised by the identity of their op objects, captured when this module is
imported (before the candidate's code): renaming an op (`__name__`) or editing a table changes
nothing.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from kernelwright.tools.check.poison import PoisonPattern, poison_

# Aten ops that move, reinterpret or allocate data but compute nothing a kernel should have.
ALLOWED_OP_NAMES = frozenset(
    """
    empty empty_like empty_strided new_empty new_empty_strided zeros zeros_like new_zeros
    ones ones_like new_ones full full_like new_full fill_ zero_ scalar_tensor arange resize_
    view _unsafe_view reshape _reshape_alias reshape_as as_strided as_strided_ t t_ transpose transpose_
    permute expand expand_as squeeze squeeze_ unsqueeze unsqueeze_ slice select split split_with_sizes
    unsafe_split unsafe_chunk chunk unbind narrow narrow_copy alias detach detach_ view_as flatten
    unflatten ravel movedim moveaxis diagonal unfold contiguous clone copy_ _to_copy to type_as
    numpy_T mT mH matrix_H adjoint swapaxes swapaxes_ swapdims swapdims_ broadcast_to
    tensor_split hsplit vsplit dsplit atleast_1d atleast_2d atleast_3d
    pad constant_pad_nd reflection_pad1d reflection_pad2d reflection_pad3d replication_pad1d
    replication_pad2d replication_pad3d _pad_circular flip fliplr flipud roll repeat tile view_as_real view_as_complex
    lift_fresh lift_fresh_copy _local_scalar_dense item sym_size sym_stride sym_numel
    sym_storage_offset is_contiguous size stride dim numel set_ cat stack is_same_size
    is_nonzero result_type
    """.split()
)
ALLOCATING_OPS = frozenset("empty empty_like empty_strided new_empty new_empty_strided resize_".split())
# Allowed ops that write values without reading tensor data: their bytes are allocation, not a copy.
FILLING_OPS = ALLOCATING_OPS | frozenset(
    "zeros zeros_like new_zeros ones ones_like new_ones full full_like new_full fill_ zero_ scalar_tensor arange lift_fresh lift_fresh_copy".split()
)


def _packets(names: frozenset[str]) -> frozenset[Any]:
    aten = torch.ops.aten
    return frozenset(getattr(aten, n) for n in names if hasattr(aten, n))


def _overloads(packets: frozenset[Any]) -> frozenset[Any]:
    return frozenset(getattr(p, o) for p in packets for o in p.overloads())


# Captured at import (before any candidate code): decisions compare op objects by identity.
_ALLOWED = _overloads(_packets(ALLOWED_OP_NAMES))
_ALLOCATING = _overloads(_packets(ALLOCATING_OPS))
_FILLING = _overloads(_packets(FILLING_OPS))
_COPY_ = _overloads(_packets(frozenset({"copy_"})))
_SCALAR_READ = _overloads(_packets(frozenset({"_local_scalar_dense", "item"})))
_TRITON_DIR = None  # set by `note_triton` (the folder of the triton package)


def _op_name(func: Any) -> str:
    return str(func._schema.name).removeprefix("aten::")


def _storage_key(t: torch.Tensor) -> int | None:
    if t.numel() == 0 or t.device.type == "meta":
        return None
    try:
        return t.untyped_storage().data_ptr()
    except RuntimeError:  # a wrapper subclass has no storage of its own
        return None


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []


def written_tensors(func: Any, args: tuple, kwargs: dict) -> list[torch.Tensor]:
    """The tensors an op writes in place: its schema's mutable arguments (`copy_`'s self, `out=`)."""
    schema = getattr(func, "_schema", None)  # higher-order operators have none
    found: list[torch.Tensor] = []
    for i, argument in enumerate(schema.arguments if schema is not None else ()):
        if argument.alias_info is None or not argument.alias_info.is_write:
            continue
        found += _tensors(args[i] if i < len(args) and not argument.kwarg_only else kwargs.get(argument.name))
    return found


def _in_triton(frame: Any) -> bool:
    """Whether the innermost frame outside torch is Triton's: allocations Triton's launch machinery
    makes (the interpreter's host copies, the benchmark's cache) are not the forward's outputs."""
    torch_dir = _TORCH_DIR
    while frame is not None and frame.f_code.co_filename.startswith(torch_dir):
        frame = frame.f_back
    return frame is not None and _TRITON_DIR is not None and frame.f_code.co_filename.startswith(_TRITON_DIR)


_TORCH_DIR = torch.__file__.rsplit("/", 1)[0] + "/"


def note_triton() -> None:
    global _TRITON_DIR
    import triton

    _TRITON_DIR = triton.__file__.rsplit("/", 1)[0] + "/"


class OpAccountant(TorchDispatchMode):
    """Records compute ops, host reads and copied bytes of one forward; poisons its allocations."""

    def __init__(self, poison: PoisonPattern | None = None, inputs: tuple[Any, ...] = ()) -> None:
        super().__init__()
        self.poison = poison
        self.compute_ops: Counter[str] = Counter()
        self.host_ops: Counter[str] = Counter()
        self.moved_bytes = 0
        # Storages of the call's inputs and of everything the forward produced: values read
        # out of these on the host are the forward's data, not constants.
        self.forward_storages: set[int] = {k for t in _tensors(list(inputs)) if (k := _storage_key(t)) is not None}

    def __enter__(self):
        _ENTRIES[id(self)] = _ENTRIES.get(id(self), 0) + 1
        _ACTIVE.append(self)
        return super().__enter__()

    def __exit__(self, *exc):
        _EXITING.append(self)
        try:
            return super().__exit__(*exc)
        finally:
            _EXITING.remove(self)
            _ACTIVE.remove(self)

    def is_forward_data(self, t: torch.Tensor) -> bool:
        key = _storage_key(t)
        return key is not None and key in self.forward_storages

    def _mark_written(self, func: Any, args: tuple, kwargs: dict) -> None:
        """The forward's data written into existing memory (`buf.copy_(x)`, `out=`) stays the
        forward's data: reading it back on the host is host compute (red team: inputs copied into
        a buffer made in `__init__`, then read with float()). Memory torch does not own (a
        `torch.frombuffer` view of a Python buffer) is Python's the moment the data lands there."""
        for t in written_tensors(func, args, kwargs):
            key = _storage_key(t)
            if key is None:
                continue
            self.forward_storages.add(key)
            if not t.untyped_storage().resizable():
                self.host_ops["the forward's data written into memory torch does not own (torch.frombuffer)"] += 1

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        subclasses = [t for t in types if t is not torch.Tensor]  # `.view(dtype)`'s internal detach names plain Tensor
        if subclasses:
            # A wrapper subclass's own __torch_dispatch__ runs with this mode off: count the op.
            owners = ", ".join(sorted(t.__name__ for t in subclasses))
            self.compute_ops[f"{_op_name(func)} (handled by {owners}.__torch_dispatch__)"] += 1
        if func in _SCALAR_READ and args and isinstance(args[0], torch.Tensor) and self.is_forward_data(args[0]):
            self.host_ops[".item() / float() / tolist() of the forward's data"] += 1
        inputs = {k for t in _tensors(list(args) + list(kwargs.values())) if (k := _storage_key(t)) is not None}
        reads_forward = bool(inputs & self.forward_storages)
        out = func(*args, **kwargs)
        if reads_forward:
            self._mark_written(func, args, kwargs)
        allowed = func in _ALLOWED
        if not allowed:
            self.compute_ops[_op_name(func)] += 1
        fresh = [t for t in _tensors(out) if (k := _storage_key(t)) is not None and k not in inputs]
        for t in fresh:
            self.forward_storages.add(_storage_key(t))
        if not allowed:
            return out
        if func in _ALLOCATING:
            if self.poison is not None and isinstance(out, torch.Tensor) and not _in_triton(sys._getframe(1)):
                poison_(out, self.poison)
        elif func in _FILLING:
            pass
        elif func in _COPY_ and args and isinstance(args[0], torch.Tensor):
            if not _in_triton(sys._getframe(1)):  # the interpreter's copies back from its host view
                self.moved_bytes += args[0].nbytes
        elif fresh and not _in_triton(sys._getframe(1)):
            self.moved_bytes += sum(t.nbytes for t in fresh)
        return out


_ACTIVE: list[OpAccountant] = []  # the accountant of the call now running, if any
_EXITING: list[OpAccountant] = []  # an accountant inside its own __exit__ (its pop is its own)
_ENTRIES: dict[int, int] = {}  # id of an accountant not yet retired -> times entered


def unexpected_pop(mode: object) -> bool:
    """Whether `mode`, just taken off torch's mode stack, is an active accountant that is not
    leaving through its own exit (identity: no attribute the candidate sets changes it)."""
    return any(mode is a for a in _ACTIVE) and not any(mode is a for a in _EXITING)


def retire(accountant: OpAccountant) -> int:
    """After its call: how many times more than once the accountant was entered (a forward that
    exits and re-enters it runs what lies between unseen); forgets it."""
    return max(0, _ENTRIES.pop(id(accountant), 1) - 1)

HOST_COMPUTE_METHODS = ("apply_", "map_", "map2_")  # run a Python callable per element
# Hand the data to Python or host libraries. The printers too: torch's tensor printer reads the
# values with dispatch modes switched off, so the op accountant never sees its `.item()` calls.
HOST_EXPORT_METHODS = ("numpy", "__array__", "__dlpack__", "tolist", "__repr__", "__str__", "__format__")


def _record_host(name: str, tensor: Any, always: bool) -> None:
    if not _ACTIVE:
        return
    accountant = _ACTIVE[-1]
    if always or (isinstance(tensor, torch.Tensor) and accountant.is_forward_data(tensor)):
        accountant.host_ops[name if "." in name else f"Tensor.{name}"] += 1


def _watched(original: Any, name: str, always: bool) -> Any:
    @functools.wraps(original)
    def method(self, *args, **kwargs):
        _record_host(name, self, always)
        return original(self, *args, **kwargs)

    del method.__wrapped__  # looks like the original to a candidate probing for the checker
    return method


_installed = False


def install_host_watch() -> None:
    """Wrap the Tensor methods that compute or read on the host (once per process, before the
    candidate's code is imported). They record only while a checked call runs."""
    global _installed
    if _installed:
        return
    _installed = True
    for name in HOST_COMPUTE_METHODS:
        setattr(torch.Tensor, name, _watched(getattr(torch.Tensor, name), name, always=True))
    for name in HOST_EXPORT_METHODS:
        setattr(torch.Tensor, name, _watched(getattr(torch.Tensor, name), name, always=False))
    # A storage hands its bytes to a Python object's write() without an aten op (red team pass 8
    # unpacked them with struct and computed the answer in Python), or lists them.
    for storage in (torch.UntypedStorage, torch.TypedStorage):
        for name in ("_write_file", "tolist"):
            if hasattr(storage, name):
                setattr(storage, name, _watched(getattr(storage, name), f"{storage.__name__}.{name}", always=True))
    import torch.utils.dlpack as dlpack

    exported = _watched(dlpack.to_dlpack, "to_dlpack", always=False)
    dlpack.to_dlpack = exported
    torch.to_dlpack = exported
    import torch.serialization as serialization

    # torch.save reads a storage's bytes without an aten op; during the forward it hands them to
    # whatever file-like object the solution passed (the static scan refuses it by name).
    saved = _watched(serialization.save, "torch.save", always=True)
    serialization.save = saved
    torch.save = saved
