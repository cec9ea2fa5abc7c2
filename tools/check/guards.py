"""Runtime integrity guards, used inside the candidate's child process.

- `global_state_snapshot`: the process-wide numerics flags a cheat could flip.
- `LaunchCounter`: counts launches of the solution's own Triton kernels (and records their
  argument signatures for the static sm_90 compile).
- `OpAccountant` (`op_accounting`): every aten op of the forward, whoever called it, and the
  poison of fresh allocations (`poison`).
The wrappers installed on Triton and threading carry the metadata of what they wrap (name,
module, docstring), so a candidate reading them learns nothing about the checker.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import torch
from typing_extensions import TypedDict

from kernelwright.tools.check.dispatch_bypass import DispatchBypass
from kernelwright.tools.check.op_accounting import OpAccountant
from kernelwright.tools.check.poison import (
    FIXED_BITS,
    PoisonPattern,
    poison_,
    poison_allocator,
    poisoned_mask,
)
from kernelwright.tools.worker.launch_signature import LaunchArg, LaunchSignature

# The poison and the op accounting live in their own modules; these names stay importable here.
__all__ = ["OpAccountant", "POISON_BITS", "PoisonPattern", "poison_", "poison_allocator", "poisoned_mask"]
POISON_BITS = FIXED_BITS
# Distinct kernel specializations recorded for the static compile; more is a check the CPU cannot finish.
MAX_SIGNATURES = 64


# Process-wide settings that change numerics or determinism, by the name a report gives them.
GlobalState = TypedDict("GlobalState", {
    "default_dtype": str, "float32_matmul_precision": str, "deterministic_algorithms": bool, "matmul.allow_tf32": bool,
    "matmul.allow_fp16_reduced_precision_reduction": bool, "matmul.allow_bf16_reduced_precision_reduction": bool,
    "cudnn.enabled": bool, "cudnn.allow_tf32": bool, "cudnn.benchmark": bool, "cudnn.deterministic": bool, "num_threads": int, "active torch modes": str,
    "replaced torch or problem names": str, "operator kernel libraries the solution registered": int,
})


# Captured before candidate code runs. Outside the checker's own accounted windows no torch function
# or dispatch mode is active; a mode the candidate leaves active (a public TorchFunctionMode entered
# through an ExitStack, say) sees, and can change, what the worker does outside the accounted
# forward: its clones of the inputs, its torch.equal, its copies of the outputs before they are saved.
_function_modes = getattr(torch._C, "_len_torch_function_stack", lambda: 0)
_dispatch_modes = getattr(torch._C, "_len_torch_dispatch_stack", lambda: 0)


def active_modes() -> str:
    """The torch modes active now, in words; '' when none."""
    counts = {"torch function mode(s)": _function_modes(), "torch dispatch mode(s)": _dispatch_modes()}
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n)


_MISSING = object()
_CACHES = frozenset({"__slotnames__"})  # what the standard library caches on a class it copies or pickles (copyreg)


class NameSeal:
    """The names the checker's own steps call through in the solution's process (torch's functions,
    Tensor's methods, the problem's get_inputs), as they were before the solution's code ran.

    The worker makes each trial's inputs in the solution's process, through these names, outside the
    op accountant; a solution that replaced one (through any alias the static scan cannot follow:
    a module returned by a function, say) would run its own code there: torch compute off the
    books, a handle on the worker's copy of the inputs. `replaced()` names what changed; a trial
    does not start while anything has (red team pass 6: get_inputs wrapped through an alias computed
    the softmax while the worker drew the inputs, and was accepted)."""

    _watched: list[tuple[str, Any, dict[str, Any], bool]] = []  # label, namespace, baseline, additions count

    @classmethod
    def watch(cls, label: str, owner: Any, names: tuple[str, ...] = ()) -> None:
        """Seal `owner`'s namespace (only `names` of it, when given)."""
        namespace, is_class = vars(owner), isinstance(owner, type) and not names
        # On a class a new attribute shadows an inherited one (Tensor.clone over TensorBase's); on a
        # module a new name is only a lazy import landing, and its plain values are its own state
        # (torch.cuda's `_initialized` turns True on first use): there only what can be called counts.
        if names:
            baseline = {k: namespace[k] for k in names if k in namespace}
        else:
            baseline = dict(namespace) if is_class else {k: v for k, v in namespace.items() if callable(v)}
        cls._watched.append((label, namespace, baseline, is_class))

    @classmethod
    def replaced(cls) -> list[str]:
        changed = []
        for label, namespace, baseline, additions in cls._watched:
            changed += [f"{label}.{k}" for k, v in baseline.items() if namespace.get(k, _MISSING) is not v]
            if additions:
                changed += [f"{label}.{k}" for k in namespace if k not in baseline and k not in _CACHES]
        return changed


class OperatorRegistrations:
    """Kernels the solution registers for torch's operators (torch.library, reached by any route).

    A kernel registered for one of torch's own operators runs wherever torch calls it: inside the
    worker's own steps too, outside the accountant (red team pass 7: an aten::clone kernel for the
    CPU computed the softmax while the worker cloned the inputs; torch.library reached through a
    function's return value passed the static scan). Every registration goes through
    torch._C._dispatch_library; this counts those the solution's code asked for (a frame of it on
    the stack before any import machinery: a torch module that registers while a call of the
    solution's imports it lazily is torch's doing). The wrapper's name is sealed (`NameSeal`)."""

    count = 0

    @classmethod
    def install(cls, origins: Any) -> None:
        from kernelwright.tools.check.code_origin import Origin

        original = torch._C._dispatch_library

        def dispatch_library(*args: Any, **kwargs: Any) -> Any:
            import sys

            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename.startswith("<frozen importlib"):
                    break  # a module being imported registers (torch's lazy imports), not the caller beyond
                if origins.of(frame.f_code.co_filename) is Origin.CANDIDATE:
                    cls.count += 1
                    break
                frame = frame.f_back
            return original(*args, **kwargs)

        torch._C._dispatch_library = dispatch_library


def global_state_snapshot() -> GlobalState:
    """Process-wide settings that change numerics or determinism."""
    snap: GlobalState = {
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
        "active torch modes": active_modes() or "none",
        "replaced torch or problem names": ", ".join(NameSeal.replaced()) or "none",
        "operator kernel libraries the solution registered": OperatorRegistrations.count,
        "uses of torch's switches past the checker's accounting, or of the RNG's state": DispatchBypass.described(),
    }
    return snap


_get_rng_state = torch.random.get_rng_state  # captured before candidate code can patch it


def rng_snapshot() -> torch.Tensor:
    return _get_rng_state()


def diff_state(before: GlobalState, after: GlobalState) -> list[str]:
    return [f"{k}: {v!r} -> {after.get(k)!r}" for k, v in before.items() if v != after.get(k)]


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

        threading.Thread.start = disguised(start, original)


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
