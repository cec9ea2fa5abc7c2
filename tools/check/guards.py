"""Runtime integrity guards, used inside the candidate's child process.

- `global_state_snapshot`: the process-wide numerics flags a cheat could flip.
- `LaunchCounter`: counts launches of the solution's own Triton kernels (and records their
  argument signatures for the static sm_90 compile); torch-op accounting pauses inside launches.
- `OpAccountant`: a TorchDispatchMode that records aten compute ops in the forward and fills
  every fresh allocation with a NaN of a recognisable bit pattern (`POISON_BITS`), so output
  elements a kernel never wrote are found later, whatever the allocator did.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Aten ops that move or allocate data but compute nothing a kernel should have computed.
ALLOWED_OPS = frozenset(
    """
    empty empty_like empty_strided new_empty new_empty_strided zeros zeros_like new_zeros
    ones ones_like new_ones full full_like new_full fill_ zero_ scalar_tensor arange resize_
    view _unsafe_view reshape _reshape_alias as_strided t transpose permute expand expand_as
    squeeze unsqueeze slice select split split_with_sizes chunk unbind narrow alias detach
    view_as flatten unflatten movedim diagonal unfold contiguous clone copy_ _to_copy to
    lift_fresh lift_fresh_copy _local_scalar_dense item sym_size sym_stride sym_numel
    sym_storage_offset is_contiguous size stride dim numel set_ cat stack is_same_size
    is_nonzero result_type
    """.split()
)
ALLOCATING_OPS = frozenset("empty empty_like empty_strided new_empty new_empty_strided resize_".split())

# A quiet NaN per float width with a payload no arithmetic produces (they make canonical NaNs);
# integers get a sentinel. Bits are compared through an integer view of the same width.
POISON_BITS: dict[torch.dtype, tuple[torch.dtype, int]] = {
    torch.float32: (torch.int32, 0x7FCA5A5A),
    torch.float64: (torch.int64, 0x7FF8A5A5A5A5A5A5),
    torch.float16: (torch.int16, 0x7E5A),
    torch.bfloat16: (torch.int16, 0x7FDA),
    torch.int32: (torch.int32, 0x5A5A5A5A),
    torch.int64: (torch.int64, 0x5A5A5A5A5A5A5A5A),
    torch.int16: (torch.int16, 0x5A5A),
}


def poison_(t: torch.Tensor) -> None:
    """Fill `t` with the poison pattern of its dtype (no-op for dtypes without one)."""
    entry = POISON_BITS.get(t.dtype)
    if entry is None or t.numel() == 0:
        return
    int_dtype, bits = entry
    # Two's-complement reinterpretation of the unsigned pattern for the signed integer view.
    width = torch.iinfo(int_dtype).bits
    value = bits - (1 << width) if bits >= 1 << (width - 1) else bits
    if t.dtype == int_dtype:
        t.fill_(value)
    else:
        t.view(int_dtype).fill_(value)


def poisoned_mask(t: torch.Tensor) -> torch.Tensor:
    """True where `t` still holds the poison pattern (i.e. was never written)."""
    entry = POISON_BITS.get(t.dtype)
    if entry is None:
        return torch.zeros(t.shape, dtype=torch.bool)
    int_dtype, bits = entry
    width = torch.iinfo(int_dtype).bits
    value = bits - (1 << width) if bits >= 1 << (width - 1) else bits
    view = t if t.dtype == int_dtype else t.view(int_dtype)
    return view == value


def poison_allocator(nbytes: int, device: torch.device) -> None:
    """Fill about `nbytes` of free allocator memory with NaN, then free it (CUDA caching allocator)."""
    if device.type != "cuda" or nbytes <= 0:
        return
    block = torch.empty(nbytes // 4 + 1, dtype=torch.float32, device=device)
    poison_(block)
    del block


def global_state_snapshot() -> dict[str, Any]:
    """Process-wide settings that change numerics or determinism."""
    snap: dict[str, Any] = {
        "default_dtype": str(torch.get_default_dtype()),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "matmul.allow_fp16_reduced_precision_reduction": torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
        "matmul.allow_bf16_reduced_precision_reduction": torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction,
        "cudnn.enabled": torch.backends.cudnn.enabled,
        "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
        "cudnn.benchmark": torch.backends.cudnn.benchmark,
        "cudnn.deterministic": torch.backends.cudnn.deterministic,
        "num_threads": torch.get_num_threads(),
    }
    return snap


_get_rng_state = torch.random.get_rng_state  # captured before candidate code can patch it


def rng_snapshot() -> torch.Tensor:
    return _get_rng_state()


def diff_state(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [f"{k}: {before[k]!r} -> {after.get(k)!r}" for k in before if before[k] != after.get(k)]


def live_threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.ident is not None}


class ThreadStarts:
    """Counts `threading.Thread.start` calls, so a thread that already ended is still seen."""

    count = 0
    _original = None

    @classmethod
    def install(cls) -> None:
        if cls._original is not None:
            return
        cls._original = original = threading.Thread.start

        def start(thread, *args, **kwargs):
            cls.count += 1
            return original(thread, *args, **kwargs)

        threading.Thread.start = start


def _describe_arg(name: str, value: Any, constexpr: bool) -> dict[str, Any]:
    if isinstance(value, torch.Tensor):
        return {"name": name, "kind": "tensor", "dtype": str(value.dtype).removeprefix("torch.")}
    if constexpr:
        return {"name": name, "kind": "constexpr", "value": value if isinstance(value, (int, float, bool, str)) or value is None else repr(value)}
    if isinstance(value, bool):
        return {"name": name, "kind": "bool", "value": value}
    if isinstance(value, int):
        return {"name": name, "kind": "int", "value": value}
    if isinstance(value, float):
        return {"name": name, "kind": "float", "value": value}
    if value is None:
        return {"name": name, "kind": "none"}
    return {"name": name, "kind": "other", "repr": repr(value)[:80]}


class KernelBodyError(Exception):
    """An exception raised inside one of the solution's kernels under the Triton interpreter.

    The interpreter runs the kernel body as Python, so what a GPU build rejects at compile time
    (an unknown `tl` function, a non-power-of-two `tl.arange`, a type error) surfaces as an
    ordinary exception at launch; it is reported as a compile error, as on the GPU.
    """

    def __init__(self, kernel: str, exc: BaseException) -> None:
        super().__init__(f"kernel {kernel} does not compile: {type(exc).__name__}: {exc}")


class LaunchCounter:
    """Counts Triton launches, split into the solution's own kernels and everything else.

    Installed by patching `run` on Triton's JIT classes (compiled and interpreted), which every
    launch path (`kernel[grid](...)`, autotune, heuristics) goes through.
    """

    def __init__(self, solution_file: Path) -> None:
        self.solution_file = str(solution_file.resolve())
        self.own: Counter[str] = Counter()
        self.other: Counter[str] = Counter()
        self.own_total = 0  # the same count as one integer: cheap to read around every timed call
        self._is_own_file: dict[str, bool] = {}  # resolving a path per launch would cost a syscall
        # >0 only while the interpreter copies a launch's arguments to and from the host: those torch
        # calls are Triton's, not the candidate's. Never the whole launch: a launch runs candidate code
        # too (grid callables, pre-run hooks, and under the interpreter the kernel body as Python).
        self.depth = 0
        self.signatures: dict[str, dict[str, Any]] = {}
        self.interpreting = os.environ.get("TRITON_INTERPRET") == "1"

    def install(self) -> None:
        classes: list[type] = []
        from triton.runtime.jit import JITFunction

        classes.append(JITFunction)
        try:
            from triton.runtime.interpreter import InterpretedFunction

            classes.append(InterpretedFunction)
        except ImportError:  # pragma: no cover - every supported Triton has it
            pass
        for cls in classes:
            cls.run = self._wrap(cls.run)
        if self.interpreting:
            from triton.runtime.interpreter import GridExecutor

            GridExecutor._init_args_hst = self._triton_own(GridExecutor._init_args_hst)
            GridExecutor._restore_args_dev = self._triton_own(GridExecutor._restore_args_dev)

    def _triton_own(self, original):
        counter = self

        def copy(*args, **kwargs):
            counter.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                counter.depth -= 1

        return copy

    def _wrap(self, original):
        counter = self

        def run(jit_self, *args, grid, warmup, **kwargs):
            if warmup:
                return original(jit_self, *args, grid=grid, warmup=warmup, **kwargs)
            fn = getattr(jit_self, "fn", None)
            code = getattr(fn, "__code__", None)
            name = getattr(fn, "__qualname__", repr(jit_self))
            mine = code is not None and counter.is_own_file(code.co_filename)
            if mine:
                counter.count_own(name)
                counter._record_signature(jit_self, fn, name, args, kwargs)
            else:
                counter.other[name] += 1
            try:
                return original(jit_self, *args, grid=grid, warmup=warmup, **kwargs)
            except Exception as exc:
                if mine and counter.interpreting:
                    raise KernelBodyError(name, exc) from exc
                raise

        return run

    def is_own_file(self, filename: str) -> bool:
        mine = self._is_own_file.get(filename)
        if mine is None:
            mine = self._is_own_file[filename] = str(Path(filename).resolve()) == self.solution_file
        return mine

    def count_own(self, name: str) -> None:
        self.own[name] += 1
        self.own_total += 1

    def _record_signature(self, jit_self, fn, name: str, args, kwargs) -> None:
        if name in self.signatures:
            return
        import inspect

        params = list(inspect.signature(fn).parameters)
        annotations = getattr(fn, "__annotations__", {})
        constexprs = {p for p in params if "constexpr" in str(annotations.get(p, ""))}
        bound = dict(zip(params, args))
        bound.update({k: v for k, v in kwargs.items() if k in params})
        self.signatures[name] = {
            "kernel": fn.__name__,
            "file": self.solution_file,
            "args": [_describe_arg(p, bound.get(p), p in constexprs) for p in params if p in bound],
            "num_warps": kwargs.get("num_warps", 4),
            "num_stages": kwargs.get("num_stages", 3),
        }


class InterpretedAutotune:
    """Under the interpreter, Triton's Autotuner cannot benchmark (there is no active driver).
    Each call runs one config instead, rotating through them, so every config is checked for
    correctness across the trials; on a GPU autotuning is left alone."""

    def __init__(self) -> None:
        self.calls: Counter[int] = Counter()

    def install(self) -> None:
        from triton.runtime.autotuner import Autotuner

        original = Autotuner.run
        calls = self.calls

        def run(tuner, *args, **kwargs):
            configs = tuner.configs
            if len(configs) <= 1:
                return original(tuner, *args, **kwargs)
            pick = configs[calls[id(tuner)] % len(configs)]
            calls[id(tuner)] += 1
            tuner.configs = [pick]
            try:
                return original(tuner, *args, **kwargs)
            finally:
                tuner.configs = configs

        Autotuner.run = run


class ExtensionCounter:
    """Counts calls into CUDA extensions the solution builds with `load_inline`."""

    def __init__(self, launches: LaunchCounter) -> None:
        self.launches = launches
        self._original = None

    def install(self) -> None:
        import torch.utils.cpp_extension as cpp

        self._original = cpp.load_inline
        counter = self.launches

        def load_inline(*args, **kwargs):
            module = self._original(*args, **kwargs)
            return _CountingModule(module, counter)

        cpp.load_inline = load_inline


class _CountingModule:
    def __init__(self, module, counter: LaunchCounter) -> None:
        self._module = module
        self._counter = counter

    def __getattr__(self, name: str):
        attr = getattr(self._module, name)
        if not callable(attr):
            return attr
        counter = self._counter

        def call(*args, **kwargs):
            counter.count_own(f"cuda:{name}")
            return attr(*args, **kwargs)

        return call


class OpAccountant(TorchDispatchMode):
    """Records aten compute ops in the forward; poisons what the forward allocates."""

    def __init__(self, launches: LaunchCounter, poison: bool = True) -> None:
        super().__init__()
        self.launches = launches
        self.poison = poison
        self.compute_ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.launches.depth:
            return out
        name = func.overloadpacket.__name__
        if name not in ALLOWED_OPS:
            self.compute_ops[name] += 1
        elif self.poison and name in ALLOCATING_OPS and isinstance(out, torch.Tensor):
            poison_(out)
        return out
