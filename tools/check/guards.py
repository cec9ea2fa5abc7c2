"""Runtime integrity guards, used inside the candidate's child process.

- `global_state_snapshot`: the process-wide numerics flags a cheat could flip.
- `LaunchCounter` (`launch_counting`): counts launches of the solution's own Triton kernels (and
  records their argument signatures for the static sm_90 compile).
- `OpAccountant` (`op_accounting`): every aten op of the forward, whoever called it, and the
  poison of fresh allocations (`poison`).
The wrappers installed on Triton and threading carry the metadata of what they wrap (name,
module, docstring), so a candidate reading them learns nothing about the checker.
"""

from __future__ import annotations

import threading
from typing import Any

import torch
from typing_extensions import TypedDict

from kernelwright.tools.check.dispatch_bypass import DispatchBypass
from kernelwright.tools.check.launch_counting import (
    MAX_SIGNATURES,
    ExtensionCounter,
    InterpretedAutotune,
    KernelBodyError,
    LaunchBeforeCalls,
    LaunchCounter,
    disguised,
)
from kernelwright.tools.check.op_accounting import OpAccountant
from kernelwright.tools.check.poison import (
    FIXED_BITS,
    PoisonPattern,
    poison_,
    poison_allocator,
    poisoned_mask,
)
from kernelwright.tools.check.process_hooks import hooks_snapshot

# The poison, the op accounting and the launch counting live in their own modules; these names stay importable here.
__all__ = ["OpAccountant", "POISON_BITS", "PoisonPattern", "poison_", "poison_allocator", "poisoned_mask", "MAX_SIGNATURES", "ExtensionCounter",
           "InterpretedAutotune", "KernelBodyError", "LaunchBeforeCalls", "LaunchCounter", "disguised"]
POISON_BITS = FIXED_BITS


# Process-wide settings that change numerics or determinism, by the name a report gives them.
GlobalState = TypedDict("GlobalState", {
    "default_dtype": str, "float32_matmul_precision": str, "deterministic_algorithms": bool, "matmul.allow_tf32": bool,
    "matmul.allow_fp16_reduced_precision_reduction": bool, "matmul.allow_bf16_reduced_precision_reduction": bool,
    "cudnn.enabled": bool, "cudnn.allow_tf32": bool, "cudnn.benchmark": bool, "cudnn.deterministic": bool, "num_threads": int, "active torch modes": str,
    "replaced torch or problem names": str, "operator kernel libraries the solution registered": int,
    "uses of torch's switches past the checker's accounting, or of the RNG's state": str, "hooks run by new threads": str,
    "import hooks (sys.meta_path, sys.path_hooks)": str, "modules the checker imports later, as sys.modules has them": str,
    "the checker's own modules put back in sys.modules": str, "torch.save's location taggers and copyreg's tables": str,
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


_tls_included = torch._C._dispatch_tls_is_dispatch_key_included
_PYTHON_DISPATCHER = torch._C.DispatchKey.PythonDispatcher


def _python_dispatcher_on() -> bool:
    return _tls_included(_PYTHON_DISPATCHER)


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
        # On, it routes every aten call to Python kernels registered with `py_impl`, which no
        # registration counter sees (red team pass 13: an aten::clone kernel in the worker's copy).
        "python dispatcher": _python_dispatcher_on(),
        "replaced torch or problem names": ", ".join(NameSeal.replaced()) or "none",
        "operator kernel libraries the solution registered": OperatorRegistrations.count,
        "uses of torch's switches past the checker's accounting, or of the RNG's state": DispatchBypass.described(),
    }
    snap.update(hooks_snapshot())  # registries through which its code could run in the checker's steps
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
