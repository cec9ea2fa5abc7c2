"""Launch counting, used inside the candidate's child process: `LaunchCounter` counts launches of
the solution's own Triton kernels (refusing them while ModelNew is built) and records their
argument signatures for the static sm_90 compile; `InterpretedAutotune` and `ExtensionCounter`
follow autotuning and native extensions. Importable from `guards` as before. The wrappers carry
the metadata of what they wrap (`disguised`), so a candidate reading them learns nothing about
the checker."""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker.launch_signature import LaunchArg, LaunchSignature

# Distinct kernel specializations recorded for the static compile; more is a check the CPU cannot finish.
MAX_SIGNATURES = 64


def disguised(wrapper, original):
    """`wrapper` with `original`'s name, module, qualname and docstring (and no `__wrapped__`)."""
    functools.update_wrapper(wrapper, original)
    del wrapper.__wrapped__
    return wrapper


_PLAIN = (int, float, bool, str, type(None))


def _describe_arg(name: str, value: Any, constexpr: bool) -> LaunchArg:
    """What the static compile rebuilds the argument from. Exact types only: an `int` subclass
    whose `__bool__` lies, or an object whose `repr` runs the candidate's code, would make the
    compile and the interpreter see different values; anything else is `other` (described by its
    type's name alone, so describing it runs no code and reads no tensor)."""
    if isinstance(value, torch.Tensor):
        return {"name": name, "kind": "tensor", "dtype": str(value.dtype).removeprefix("torch.")}
    if type(value) in _PLAIN:
        if constexpr:
            return {"name": name, "kind": "constexpr", "value": value}
        if value is None:
            return {"name": name, "kind": "none"}
        kind = {bool: "bool", int: "int", float: "float"}.get(type(value))
        if kind:
            return {"name": name, "kind": kind, "value": value}
    if constexpr:
        import triton.language as tl

        if type(value) is tl.dtype:
            return {"name": name, "kind": "dtype", "value": str(value)}
        fn = getattr(value, "fn", None)
        code = getattr(fn, "__code__", None)
        if code is not None and type(value).__name__ in ("JITFunction", "InterpretedFunction"):  # a kernel passed as a constexpr
            return {"name": name, "kind": "jit_function", "value": fn.__name__, "line": code.co_firstlineno}
    return {"name": name, "kind": "other", "repr": type(value).__name__}


class KernelBodyError(Exception):
    """An exception raised inside one of the solution's kernels under the Triton interpreter.

    The interpreter runs the kernel body as Python, so what a GPU build rejects at compile time
    (an unknown `tl` function, a non-power-of-two `tl.arange`, a type error) surfaces as an
    ordinary exception at launch; it is reported as a compile error, as on the GPU.
    """

    def __init__(self, kernel: str, exc: BaseException) -> None:
        super().__init__(f"kernel {kernel} does not compile: {type(exc).__name__}: {exc}")


class LaunchBeforeCalls(Exception):
    """The solution launched one of its kernels while ModelNew was being built (construction,
    weights, `.to`, `.eval`). Raised at the launch, after it is counted, so the check stops at once
    instead of running the kernel (an answer table built under the CPU interpreter can take
    minutes); a candidate that catches it is still judged by the count."""

    def __init__(self, kernel: str) -> None:
        super().__init__(f"kernel {kernel} was launched while ModelNew was being built (construction, weights, .to, .eval): work done "
                         "once before the calls is outside the checked forward and goes stale when the parameters change; do it in "
                         "the forward")


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
        self.signatures: dict[str, LaunchSignature] = {}  # by specialization (see _record_signature)
        self.signatures_dropped = 0
        self.interpreting = os.environ.get("TRITON_INTERPRET") == "1"
        self.refusing = False  # set while ModelNew is built: an own launch there is counted and stopped

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
                if counter.refusing:
                    raise LaunchBeforeCalls(name)
                counter._record_signature(jit_self, fn, name, args, kwargs)
            else:
                counter.other[name] += 1
            try:
                return original(jit_self, *args, grid=grid, warmup=warmup, **kwargs)
            except Exception as exc:
                if mine and counter.interpreting:
                    raise KernelBodyError(name, exc) from exc
                raise

        return disguised(run, original)

    def is_own_file(self, filename: str) -> bool:
        mine = self._is_own_file.get(filename)
        if mine is None:
            mine = self._is_own_file[filename] = str(Path(filename).resolve()) == self.solution_file
        return mine

    def count_own(self, name: str) -> None:
        self.own[name] += 1
        self.own_total += 1

    def _record_signature(self, jit_self, fn, name: str, args, kwargs) -> None:
        """Every distinct specialization (constexpr values, dtypes, warps, stages) up to
        MAX_SIGNATURES: the static compile checks each, so a kernel cannot launch a compilable
        specialization first and one that only the interpreter runs after it."""
        import inspect

        params = list(inspect.signature(fn).parameters)
        annotations = getattr(fn, "__annotations__", {})
        constexprs = {p for p in params if "constexpr" in str(annotations.get(p, ""))}
        bound = dict(zip(params, args))
        bound.update({k: v for k, v in kwargs.items() if k in params})
        described = [_describe_arg(p, bound.get(p), p in constexprs) for p in params if p in bound]
        warps, stages = kwargs.get("num_warps", 4), kwargs.get("num_stages", 3)
        key = repr((name, fn.__code__.co_firstlineno, [(a["name"], a["kind"], a.get("dtype"), a.get("value") if a["kind"] == "constexpr" else None) for a in described],
                    warps, stages))
        if key in self.signatures:
            return
        if len(self.signatures) >= MAX_SIGNATURES:
            self.signatures_dropped += 1
            return
        self.signatures[key] = {"kernel": fn.__name__, "file": self.solution_file, "args": described,
                                "num_warps": warps, "num_stages": stages, "line": fn.__code__.co_firstlineno}


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

        Autotuner.run = disguised(run, original)


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

        cpp.load_inline = disguised(load_inline, self._original)


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
