"""Resolving what a dotted name in a solution reaches, without running the solution.

A deny-list of names as written misses every other route to the same object: `torch.sys`,
`torch.os.system`, `torch.nn.functional.np`, `torch.cuda.graphs.gc`, `from torch import ctypes`,
`getattr(torch.utils, "_python_dispatch")`, `run = exec`. So the static scan resolves each chain
rooted at an imported module (or a builtin) to the object it reaches in the checker's own
interpreter, attribute by attribute, and judges the object: a forbidden or private module, one of
the forbidden functions (by identity, so every alias of `os.system` or `torch.manual_seed` is the
same), or an object that a forbidden module defines. The solution is never executed: only
modules on `IMPORTABLE_ROOTS` (and those already loaded) are imported to resolve a chain.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import inspect
import sys
import threading
import types
from typing import Any

from kernelwright.tools.check.verdicts import Verdict

# Roots the scan may import to resolve a chain (what honest solutions import, all safe to import).
IMPORTABLE_ROOTS = frozenset(
    """
    torch triton math cmath os functools itertools operator collections typing dataclasses enum
    numbers random time warnings contextlib abc string copy statistics struct array heapq bisect
    """.split()
)
# Modules whose objects a solution may not reach however it names them (root -> why).
PROFILER_MODULES = {
    "torch.profiler": "switches the checker's profiler",
    "torch.autograd.profiler": "switches the checker's profiler",
    "torch.autograd.profiler_util": "switches the checker's profiler",
    "torch.cuda.profiler": "switches the checker's profiler",
    "triton.runtime.build": "compiles and loads native code the checker cannot see",
    "triton.profiler": "switches the checker's profiler",
    # A kernel registered for one of torch's own operators (aten::clone on the CPU) runs wherever torch
    # calls it, inside the checker's own steps too (red team pass 7: the worker's clone of the inputs
    # computed the softmax). An honest custom op (triton_op) is torch compute to the accountant anyway.
    "torch.library": "registers kernels for torch's operators, which then run inside the checker's own steps",
}
# Builtins that are forbidden by reference, not only when called under their own name.
FORBIDDEN_BUILTINS = {
    "eval": "runs code the scan cannot see",
    "exec": "runs code the scan cannot see",
    "compile": "builds code the scan cannot see",
    "__import__": "imports code the scan cannot see",
    "globals": "reaches module state",
    "locals": "reaches frame state",
    "vars": "reaches object internals",
    "open": "reads or writes files",
    "breakpoint": "stops in a debugger",
    "input": "reads the checker's input",
    "delattr": "removes attributes of other objects",
}
# Of os and os.path, the names a solution may use.
OS_ALLOWED = {"getenv", "cpu_count", "sep", "linesep", "path", "path.join", "path.basename", "path.dirname"}


@dataclasses.dataclass(frozen=True)
class Reached:
    """A chain (or its prefix) that reaches something forbidden."""

    chain: str
    verdict: Verdict
    why: str


def _module_name(obj: Any) -> str | None:
    return obj.__name__ if isinstance(obj, types.ModuleType) else None


class Resolver:
    """Resolves dotted chains and judges what they reach. Build once per process (`resolver()`)."""

    def __init__(self, forbidden_modules: dict[str, str], forbidden_calls: dict[str, str], global_state_calls: set[str]) -> None:
        self.forbidden_modules = forbidden_modules
        # id -> (object kept alive, verdict, why)
        self.objects: dict[int, tuple[Any, Verdict, str]] = {}
        for name, why in forbidden_calls.items():
            self._add(name, Verdict.STATIC_VIOLATION, why)
        for name in global_state_calls:
            self._add(name, Verdict.GLOBAL_STATE, "changes process-wide state")
        for name, why in FORBIDDEN_BUILTINS.items():
            self._add_object(getattr(builtins, name), Verdict.STATIC_VIOLATION, why)
        self._add_os()

    def _add(self, name: str, verdict: Verdict, why: str) -> None:
        head = name.split(".")[0]
        if "." not in name:
            if hasattr(builtins, name) and name not in ("setattr", "getattr"):
                self._add_object(getattr(builtins, name), verdict, why)
            return
        obj = self.resolve(name, {head: head})
        if obj is not _UNRESOLVED:
            self._add_object(obj, verdict, why)

    def _add_object(self, obj: Any, verdict: Verdict, why: str) -> None:
        if isinstance(obj, (int, float, str, bool)) or obj is None:
            return  # constants are not identities
        self.objects.setdefault(id(obj), (obj, verdict, why))

    def _add_os(self) -> None:
        import os
        import os.path

        for module, prefix in ((os, ""), (os.path, "path.")):
            for name in dir(module):
                value = getattr(module, name)
                if callable(value) and not isinstance(value, type) and f"{prefix}{name}" not in OS_ALLOWED:
                    self._add_object(value, Verdict.STATIC_VIOLATION, "only os.getenv, os.cpu_count and os.path name helpers are allowed")
        self._add_object(os.environ, Verdict.STATIC_VIOLATION, "reads the environment directly")
        self.allowed_ids = {id(getattr(os, n)) for n in OS_ALLOWED if "." not in n} | {id(getattr(os.path, n)) for n in ("join", "basename", "dirname")}

    # -- resolution ------------------------------------------------------------------------
    def _root(self, module: str) -> Any:
        loaded = sys.modules.get(module)
        # A module another thread is still importing is not looked into (import_module waits for it).
        if loaded is not None and not getattr(getattr(loaded, "__spec__", None), "_initializing", False):
            return loaded
        if module.split(".")[0] not in IMPORTABLE_ROOTS:
            return _UNRESOLVED
        try:
            return importlib.import_module(module)
        except Exception:  # noqa: BLE001 - an unknown name is simply not resolved
            return _UNRESOLVED

    def _step(self, obj: Any, attr: str) -> Any:
        name = _module_name(obj)
        if name is not None:
            if attr in obj.__dict__:
                return obj.__dict__[attr]
            return self._root(f"{name}.{attr}")  # a submodule not imported by its package yet
        try:
            value = inspect.getattr_static(obj, attr)
        except AttributeError:
            return _UNRESOLVED
        return value.__func__ if isinstance(value, (staticmethod, classmethod)) else value

    def resolve(self, chain: str, aliases: dict[str, str]) -> Any:
        """The object `chain` reaches, or `_UNRESOLVED`. `aliases` maps local names to module paths."""
        found = self.prefixes(chain, aliases)
        return found[-1][1] if found else _UNRESOLVED

    def prefixes(self, chain: str, aliases: dict[str, str]) -> list[tuple[str, Any]]:
        """(prefix, object) for each prefix of `chain` that resolves, outermost last."""
        head, *rest = chain.split(".")
        if head in aliases:
            real = aliases[head].split(".")
            obj = self._root(real[0])
            parts = real[1:] + rest
            shown = [real[0]]
        elif head in FORBIDDEN_BUILTINS or hasattr(builtins, head):
            obj, parts, shown = getattr(builtins, head, _UNRESOLVED), rest, [head]
        else:
            return []
        out: list[tuple[str, Any]] = []
        if obj is _UNRESOLVED:
            return out
        out.append((".".join(shown), obj))
        for part in parts:
            obj = self._step(obj, part)
            if obj is _UNRESOLVED:
                break
            shown.append(part)
            out.append((".".join(shown), obj))
        return out

    # -- judgement -------------------------------------------------------------------------
    def judge(self, chain: str, aliases: dict[str, str]) -> Reached | None:
        """The first prefix of `chain` that reaches something forbidden."""
        for prefix, obj in self.prefixes(chain, aliases):
            reached = self.judge_object(prefix, obj)
            if reached is not None:
                return reached
        return None

    def judge_object(self, prefix: str, obj: Any) -> Reached | None:
        name = _module_name(obj)
        if name is not None:
            return self._judge_module(prefix, name)
        if id(obj) in self.allowed_ids:
            return None
        entry = self.objects.get(id(obj))
        if entry is not None and entry[0] is obj:
            return Reached(prefix, entry[1], entry[2])
        owner = getattr(obj, "__module__", None) if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, type)) else None
        if isinstance(owner, str):
            root = owner.split(".")[0]
            if root in self.forbidden_modules and root != "builtins":
                return Reached(prefix, Verdict.STATIC_VIOLATION, f"an object of module {owner}: {self.forbidden_modules[root]}")
            for module, why in PROFILER_MODULES.items():
                if owner == module or owner.startswith(module + "."):
                    return Reached(prefix, Verdict.STATIC_VIOLATION, f"an object of module {owner}: {why}")
        return None

    def _judge_module(self, prefix: str, name: str) -> Reached | None:
        root = name.split(".")[0]
        shown = prefix if prefix == name else f"{prefix} (module {name})"
        if root in self.forbidden_modules:
            return Reached(shown, Verdict.STATIC_VIOLATION, self.forbidden_modules[root])
        if root in ("posix", "nt"):
            return Reached(shown, Verdict.STATIC_VIOLATION, "reaches the operating system directly")
        for module, why in PROFILER_MODULES.items():
            if name == module or name.startswith(module + "."):
                return Reached(shown, Verdict.STATIC_VIOLATION, why)
        if any(part.startswith("_") and not (part.startswith("__") and part.endswith("__")) for part in name.split(".")):
            return Reached(shown, Verdict.STATIC_VIOLATION, "private internals (e.g. dispatch modes) can switch the checks off")
        return None


class _Unresolved:
    def __repr__(self) -> str:
        return "<unresolved>"


_UNRESOLVED = _Unresolved()
_RESOLVER: Resolver | None = None
_BUILDING = threading.Lock()


def resolver(forbidden_modules: dict[str, str], forbidden_calls: dict[str, str], global_state_calls: set[str]) -> Resolver:
    """The process's resolver (building it resolves every forbidden name once: about a second)."""
    global _RESOLVER
    with _BUILDING:  # checks run in threads (the integrity suite, bench)
        if _RESOLVER is None:
            _RESOLVER = Resolver(forbidden_modules, forbidden_calls, global_state_calls)
    return _RESOLVER
