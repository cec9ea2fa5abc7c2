"""Triton's CPU interpreter, made to compute what the GPU computes (candidate worker, CPU only).

Installed in the candidate's process before the solution is imported (TRITON_INTERPRET=1). The
stock interpreter differs from a GPU where a check must not:

- **Dot precision.** It ignores `input_precision`: an fp32 `tl.dot` without "ieee" is exact here
  and TF32 (10-bit mantissas) on the GPU. Here the operands are rounded to TF32 as the GPU does
  ("tf32x3" as three TF32 products), 16-bit accumulators (`out_dtype=tl.float16`) are rounded
  after every 16-deep step like the tensor cores' fp16 accumulation, and every dot's operand and
  accumulator types, and every fp32 -> 16-bit conversion, are recorded for the judge's precision
  rule (`drain_numerics`).
- **bf16.** It multiplies bf16 dot operands as their raw 16-bit integers (errors of 1e11):
  converted to fp32 first here, as the tensor cores do (products of bf16 values are exact in fp32).
  It truncates fp32 -> bf16 conversions; the GPU rounds them to nearest even, and so does this.
- **libdevice.** `tl.extra.*.libdevice` calls fail ("cannot convert None"): the functions are
  given the interpreter's semantic and their symbols (`__nv_erff`, ...) computed with torch's CPU
  kernels. What has no CPU equivalent (a libdevice symbol not in the table, inline assembly)
  raises `NeedsGpu`, which the candidate worker reports as `needs_gpu`, never as a compile error.
- **device_print.** Printed through Python's `print` (so into whatever `sys.stdout` the solution
  set); here straight to file descriptor 2 (`interpreter_print`).
- **constexpr globals.** `HALF * x` with a module-level `tl.constexpr` wrapped the tensor in a
  constexpr (`interpreter_constexpr`).
- **Programs in order.** It runs a grid's programs one after another, each seeing what the ones
  before it stored. On a GPU they run at once, so a program that reads another's plain stores
  (a split-K sum without atomics, a carry between blocks) races. Here each program sees memory as
  it was at launch plus its own stores; the plain stores of all programs land when the launch
  ends, in a random order (so overlapping stores end in a random program's value). An atomic
  operation publishes the program's stores so far at once (release), as on the GPU, so locks,
  counters and "last block" reductions behave as written.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from typing_extensions import TypedDict

from kernelwright.tools.worker import (
    interpreter_bf16,
    interpreter_bounds,
    interpreter_constexpr,
    interpreter_print,
    interpreter_ties,
    interpreter_tree,
)

TF32_DROPPED_BITS = 13  # fp32 keeps 23 mantissa bits, TF32 10
FP16_ACC_STEP = 16  # K of one tensor-core MMA step that accumulates in fp16


class NeedsGpu(Exception):
    """Something the solution's kernel uses that Triton's CPU interpreter cannot run faithfully."""


_installed = False
_lock = threading.Lock()
class NumericsNote(TypedDict):
    """The precision one interpreted kernel computed with (the parent reads it as
    `events.NumericsRecord`)."""

    kernel: str
    op: str  # dot | downcast
    a: str  # operand dtypes (a downcast: from, to)
    b: str
    acc: str  # the accumulator's dtype ("" for a downcast)
    precision: str  # the dot's input_precision for fp32 operands, "native" otherwise ("" for a downcast)


_numerics: dict[tuple[tuple[str, str], ...], NumericsNote] = {}
_kernel: list[str] = []  # the running launch's kernel name (a stack: one entry while it runs)


def drain_numerics() -> list[NumericsNote]:
    """The distinct precision records since the last call (and forget them)."""
    with _lock:
        out = list(_numerics.values())
        _numerics.clear()
    return out


def _note(op: str, a: str, b: str, acc: str, precision: str) -> None:
    """Kept once per distinct record, with no cap: a cap on all records let a flood of harmless
    ones push out the one that decides (red team pass 8), and distinct ones are few (kernels x ops
    x dtypes)."""
    record: NumericsNote = {"kernel": _kernel[-1] if _kernel else "?", "op": op, "a": a, "b": b, "acc": acc, "precision": precision}
    key = tuple(sorted(record.items()))
    with _lock:
        if key not in _numerics:
            _numerics[key] = record


def round_to_tf32(data: np.ndarray) -> np.ndarray:
    """fp32 values rounded to TF32 (nearest, ties away from zero: cvt.rna.tf32.f32); inf/NaN kept."""
    bits = np.ascontiguousarray(data, dtype=np.float32).view(np.uint32)
    special = (bits & np.uint32(0x7F800000)) == np.uint32(0x7F800000)
    rounded = (bits + np.uint32(1 << (TF32_DROPPED_BITS - 1))) & np.uint32(~((1 << TF32_DROPPED_BITS) - 1) & 0xFFFFFFFF)
    return np.where(special, bits, rounded).view(np.float32)


def _bf16_to_fp32(data: np.ndarray) -> np.ndarray:
    return (data.astype(np.uint32) << np.uint32(16)).view(np.float32)


def _fp32_to_bf16(data: np.ndarray) -> np.ndarray:
    """Round to nearest even, as a GPU's cvt.rn.bf16.f32 (NaN kept a NaN)."""
    bits = np.ascontiguousarray(data, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    return np.where(np.isnan(data), np.uint32(0x7FC0), rounded).astype(np.uint16)


# ---- dots ---------------------------------------------------------------------------------------


def _operand(handle: Any, tl: Any) -> np.ndarray | None:
    """A dot operand as fp32 (bf16 and fp16 converted exactly); None for other types."""
    ty = handle.dtype.scalar
    if ty == tl.bfloat16:
        return _bf16_to_fp32(handle.data)
    if ty in (tl.float16, tl.float32):
        return handle.data.astype(np.float32)
    return None


def _dot(original: Callable) -> Callable:
    import triton.language as tl
    from triton.runtime.interpreter import TensorHandle

    def create_dot(self, a, b, d, input_precision, max_num_imprecise_acc):
        precision = getattr(input_precision, "name", str(input_precision)).lower()
        a_ty, b_ty, acc_ty = a.dtype.scalar, b.dtype.scalar, d.dtype.scalar
        fp32_operands = a_ty == tl.float32 and b_ty == tl.float32
        _note(op="dot", a=str(a_ty), b=str(b_ty), acc=str(acc_ty), precision=precision if fp32_operands else "native")
        x, y = _operand(a, tl), _operand(b, tl)
        if x is None or y is None or acc_ty not in (tl.float32, tl.float16, tl.bfloat16):
            return original(self, a, b, d, input_precision, max_num_imprecise_acc)
        if fp32_operands and precision == "tf32":
            product = np.matmul(round_to_tf32(x), round_to_tf32(y))
        elif fp32_operands and precision == "tf32x3":
            xb, yb = round_to_tf32(x), round_to_tf32(y)
            xs, ys = round_to_tf32(x - xb), round_to_tf32(y - yb)
            product = np.matmul(xb, ys) + np.matmul(xs, yb) + np.matmul(xb, yb)
        else:
            product = None
        acc = _bf16_to_fp32(d.data) if acc_ty == tl.bfloat16 else d.data.astype(np.float32)
        if acc_ty == tl.float16:  # fp16 accumulation: rounded after every MMA step along K
            for k in range(0, x.shape[-1], FP16_ACC_STEP):
                step = np.matmul(x[..., k:k + FP16_ACC_STEP], y[..., k:k + FP16_ACC_STEP, :])
                acc = (acc + step).astype(np.float16).astype(np.float32)
            return TensorHandle(acc.astype(np.float16), acc_ty)
        out = acc + (np.matmul(x, y) if product is None else product)
        if acc_ty == tl.bfloat16:
            return TensorHandle(_fp32_to_bf16(out), acc_ty)
        return TensorHandle(out.astype(np.float32), acc_ty)

    return create_dot


def _cast(original: Callable) -> Callable:
    import triton.language as tl
    from triton.runtime.interpreter import TensorHandle

    def cast_impl(self, src, dst_type):
        if src.dtype.scalar == tl.float32 and dst_type.scalar == tl.bfloat16:
            return TensorHandle(_fp32_to_bf16(src.data), dst_type.scalar)
        return original(self, src, dst_type)

    return cast_impl


def _downcast(original: Callable) -> Callable:
    import triton.language as tl

    def create_fp_trunc(self, src, dst_type):
        if src.dtype.scalar == tl.float32 and dst_type.scalar in (tl.float16, tl.bfloat16):
            _note(op="downcast", a="fp32", b=str(dst_type.scalar), acc="", precision="")
        return original(self, src, dst_type)

    return create_fp_trunc


# ---- libdevice ----------------------------------------------------------------------------------


def _torch_unary(name: str) -> Callable[[np.ndarray], np.ndarray]:
    import torch
    from torch.utils._python_dispatch import _disable_current_modes

    fn = getattr(torch.special, name, None) or getattr(torch, name)

    def run(x: np.ndarray) -> np.ndarray:
        # The checker's stand-in for the GPU's libdevice, inside a kernel: not torch compute of the
        # forward, so the op accountant (a dispatch mode) must not see it.
        with _disable_current_modes():
            return fn(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    return run


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.copysign(np.floor(np.abs(x) + 0.5), x)


# libdevice base names (without `__nv_`, `fast_` and the `f` of float variants) -> numpy arity
# and function. Every entry computes the same function as libdevice (to within its own ulps).
_LIBDEVICE: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "exp": (1, np.exp), "exp2": (1, np.exp2), "exp10": (1, lambda x: np.power(x.dtype.type(10), x)), "expm1": (1, np.expm1),
    "log": (1, np.log), "log2": (1, np.log2), "log10": (1, np.log10), "log1p": (1, np.log1p),
    "sqrt": (1, np.sqrt), "sqrt_rn": (1, np.sqrt), "rsqrt": (1, lambda x: 1 / np.sqrt(x)), "cbrt": (1, np.cbrt),
    "rcbrt": (1, lambda x: 1 / np.cbrt(x)), "rcp_rn": (1, lambda x: 1 / x), "frcp_rn": (1, lambda x: 1 / x),
    "sin": (1, np.sin), "cos": (1, np.cos), "tan": (1, np.tan), "asin": (1, np.arcsin), "acos": (1, np.arccos),
    "atan": (1, np.arctan), "sinh": (1, np.sinh), "cosh": (1, np.cosh), "tanh": (1, np.tanh), "asinh": (1, np.arcsinh),
    "acosh": (1, np.arccosh), "atanh": (1, np.arctanh), "sinpi": (1, lambda x: np.sin(np.pi * x)),
    "cospi": (1, lambda x: np.cos(np.pi * x)),
    "erf": (1, _torch_unary("erf")), "erfc": (1, _torch_unary("erfc")), "erfinv": (1, _torch_unary("erfinv")),
    "erfcx": (1, _torch_unary("erfcx")), "normcdf": (1, _torch_unary("ndtr")), "normcdfinv": (1, _torch_unary("ndtri")),
    "lgamma": (1, _torch_unary("lgamma")), "tgamma": (1, lambda x: np.exp(_torch_unary("lgamma")(x)) * np.where(
        (x < 0) & (np.floor(x / 2) * 2 != np.floor(x)), -1, 1)),
    "i0": (1, _torch_unary("i0")), "i1": (1, _torch_unary("i1")),
    "j0": (1, _torch_unary("bessel_j0")), "j1": (1, _torch_unary("bessel_j1")),
    "y0": (1, _torch_unary("bessel_y0")), "y1": (1, _torch_unary("bessel_y1")),
    "floor": (1, np.floor), "ceil": (1, np.ceil), "trunc": (1, np.trunc), "round": (1, _round_half_away),
    "rint": (1, np.rint), "nearbyint": (1, np.rint), "abs": (1, np.abs), "fabs": (1, np.abs),
    "saturate": (1, lambda x: np.clip(x, 0, 1)), "isnan": (1, np.isnan), "isinf": (1, np.isinf), "finite": (1, np.isfinite),
    "isfinited": (1, np.isfinite), "signbit": (1, np.signbit),
    "fmin": (2, np.fmin), "fmax": (2, np.fmax), "fmod": (2, np.fmod), "remainder": (2, lambda x, y: x - y * np.rint(x / y)),
    "pow": (2, np.power), "powi": (2, lambda x, n: np.power(x, n.astype(x.dtype))), "atan2": (2, np.arctan2),
    "hypot": (2, np.hypot), "copysign": (2, np.copysign), "fdim": (2, lambda x, y: np.maximum(x - y, 0)),
    "nextafter": (2, np.nextafter), "div_rn": (2, np.divide), "fdiv_rn": (2, np.divide), "fdividef": (2, np.divide),
    "mul_rn": (2, np.multiply), "add_rn": (2, np.add), "fmul_rn": (2, np.multiply), "fadd_rn": (2, np.add),
    "fsub_rn": (2, np.subtract), "sub_rn": (2, np.subtract), "min": (2, np.minimum), "max": (2, np.maximum),
    "umin": (2, np.minimum), "umax": (2, np.maximum), "llmin": (2, np.minimum), "llmax": (2, np.maximum),
    "ldexp": (2, lambda x, e: np.ldexp(x, e.astype(np.int32))), "scalbn": (2, lambda x, e: np.ldexp(x, e.astype(np.int32))),
    "fma": (3, lambda a, b, c: (a.astype(np.float64) * b + c).astype(a.dtype)),
    "fma_rn": (3, lambda a, b, c: (a.astype(np.float64) * b + c).astype(a.dtype)),
}


def _libdevice_function(symbol: str) -> tuple[int, Callable[..., np.ndarray]] | None:
    name = symbol.removeprefix("__nv_").removeprefix("__ocml_")
    for candidate in (name, name.removeprefix("fast_"), name[:-1] if name.endswith("f") else name,
                      name.removeprefix("fast_")[:-1] if name.endswith("f") else name):
        for trimmed in (candidate, candidate.rsplit("_f", 1)[0]):  # __ocml_exp_f32 -> exp
            if trimmed in _LIBDEVICE:
                return _LIBDEVICE[trimmed]
    return None


def _extern_elementwise() -> Callable:
    from triton.runtime.interpreter import TensorHandle, _get_np_dtype

    def create_extern_elementwise(self, lib_name, lib_path, symbol, arg_list, ret_type, is_pure):
        entry = _libdevice_function(symbol)
        if entry is None or entry[0] != len(arg_list):
            raise NeedsGpu(f"libdevice function {symbol} has no CPU equivalent in the checker: run the check on a GPU (--device cuda)")
        args = [a.data if hasattr(a, "data") else np.asarray(a) for a in arg_list]
        out_dtype = _get_np_dtype(ret_type)
        with np.errstate(all="ignore"):
            result = np.asarray(entry[1](*args))
        return TensorHandle(result.astype(out_dtype), ret_type.scalar)

    return create_extern_elementwise


def _inline_asm(self, *args, **kwargs):
    raise NeedsGpu("inline PTX assembly (tl.inline_asm_elementwise) cannot run under Triton's CPU interpreter: run the check on a GPU (--device cuda)")


def _wire_libdevice() -> None:
    """Give libdevice's builtins the interpreter's semantic; point the backend-neutral stub
    module (`triton.language.extra.libdevice`, bodies `...`) at the CUDA implementations."""
    import importlib

    import triton.language.core as core
    from triton.runtime.interpreter import interpreter_semantic

    def wrap(fn: Callable) -> Callable:
        def call(*args, **kwargs):
            kwargs["_semantic"] = interpreter_semantic
            return fn(*args, **kwargs)

        call.__name__ = getattr(fn, "__name__", "libdevice")
        setattr(call, core.TRITON_BUILTIN, True)
        return call

    cuda = None
    for name in ("triton.language.extra.cuda.libdevice", "triton.language.extra.hip.libdevice"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attr, fn in list(vars(module).items()):
            if callable(fn) and core.is_builtin(fn) and not attr.startswith("_"):
                setattr(module, attr, wrap(fn))
        cuda = cuda or module
    try:
        stub = importlib.import_module("triton.language.extra.libdevice")
    except ImportError:
        return
    for attr, fn in list(vars(stub).items()):
        if callable(fn) and getattr(fn, "__module__", "") == stub.__name__ and cuda is not None and hasattr(cuda, attr):
            setattr(stub, attr, getattr(cuda, attr))


# ---- programs that run at once ------------------------------------------------------------------


class _Launch:
    """The plain stores of one launch, held back as described in the module docstring."""

    def __init__(self, interp: Any) -> None:
        self.interp = interp
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # this program's (ptrs, mask, old values)
        self.finished: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []  # per program: (ptrs, mask, values)
        self.bypass = 0  # >0 inside an atomic: its stores are published at once

    def store(self, original: Callable, builder: Any, ptrs: Any, value: Any, mask: Any, cache_policy: Any) -> Any:
        if not self.bypass:
            other = np.zeros(ptrs.data.shape, dtype=value.data.dtype)
            old = self.interp.load(ptrs.data, mask.data, other, value.data.dtype)
            self.pending.append((ptrs.data.copy(), np.asarray(mask.data).copy(), old))
        return original(builder, ptrs, value, mask, cache_policy)

    def end_program(self) -> None:
        """Take the program's stores back out of memory (kept to land at the launch's end)."""
        if not self.pending:
            return
        final = [(p, m, self.interp.load(p, m, np.zeros(p.shape, dtype=o.dtype), o.dtype)) for p, m, o in self.pending]
        for ptrs, mask, old in reversed(self.pending):
            self.interp.store(ptrs, old, mask)
        self.finished.append(final)
        self.pending = []

    def publish(self) -> None:
        """An atomic: the program's stores so far stay where they are (release semantics)."""
        self.pending = []

    def end(self) -> None:
        self.end_program()
        order = list(range(len(self.finished)))
        random.SystemRandom().shuffle(order)
        for i in order:
            for ptrs, mask, values in self.finished[i]:
                self.interp.store(ptrs, values, mask)
        self.finished = []


_launches: list[_Launch] = []


def _concurrent_programs() -> None:
    from triton.runtime import interpreter as interp_mod

    builder_cls, executor_cls, interp = interp_mod.InterpreterBuilder, interp_mod.GridExecutor, interp_mod._interpreter
    store, set_idx, run = builder_cls.create_masked_store, builder_cls.set_grid_idx, executor_cls.__call__

    def create_masked_store(self, ptrs, value, mask, cache_policy):
        if not _launches:
            return store(self, ptrs, value, mask, cache_policy)
        return _launches[-1].store(store, self, ptrs, value, mask, cache_policy)

    def set_grid_idx(self, x, y, z):
        if _launches:
            _launches[-1].end_program()
        return set_idx(self, x, y, z)

    def publishing(name: str) -> None:
        original = getattr(builder_cls, name)

        def atomic(self, *args, **kwargs):
            if not _launches:
                return original(self, *args, **kwargs)
            launch = _launches[-1]
            launch.publish()
            launch.bypass += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                launch.bypass -= 1

        setattr(builder_cls, name, atomic)

    for name in ("create_atomic_rmw", "create_atomic_cas", "create_atomic_store"):
        publishing(name)

    def call(self, *args, **kwargs):
        _kernel.append(getattr(self.fn, "__name__", "kernel"))
        launch = _Launch(interp)
        _launches.append(launch)
        interpreter_bounds.push(args, kwargs)
        try:
            out = run(self, *args, **kwargs)
            launch.end()
            return out
        finally:
            interpreter_bounds.pop()
            _launches.pop()
            _kernel.pop()

    builder_cls.create_masked_store = create_masked_store
    builder_cls.set_grid_idx = set_grid_idx
    executor_cls.__call__ = call


def install() -> None:
    """Patch Triton's interpreter in this process (idempotent)."""
    global _installed
    if _installed:
        return
    from triton.runtime import interpreter as interp_mod

    builder = interp_mod.InterpreterBuilder
    builder.create_dot = _dot(builder.create_dot)
    builder.cast_impl = _cast(builder.cast_impl)
    interpreter_bf16.install(builder, _fp32_to_bf16)  # arithmetic on bf16 values, not on their bit patterns
    builder.create_fp_trunc = _downcast(builder.create_fp_trunc)
    builder.create_extern_elementwise = _extern_elementwise()
    builder.create_inline_asm = _inline_asm
    builder.create_print = interpreter_print.device_print(builder.create_print)
    _wire_libdevice()
    _concurrent_programs()
    interpreter_constexpr.install()
    interpreter_ties.install()
    interpreter_tree.install()  # a solution's own combine functions in log2(n) whole-block calls
    # Last, so the bounds check runs before the held-back stores read their old values.
    interpreter_bounds.install(builder, lambda: _kernel[-1] if _kernel else "kernel")
    _installed = True
