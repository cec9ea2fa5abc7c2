"""Process-wide registries through which code of the candidate's could run later, in the checker's
own steps outside every accounted call (red team pass 10): the hooks new threads run
(`threading.setprofile`/`settrace`, which raise no audit event), the import machinery a lazy
import by the checker goes through (`sys.meta_path`, `sys.path_hooks`, a module planted in
`sys.modules` under a name the checker or torch imports later), and what `torch.save` consults
while the worker saves an output (`torch.serialization`'s package registry of location taggers,
`copyreg`'s reducer and extension tables). Part of the global-state snapshot
(`guards.global_state_snapshot`): a change between two snapshots is a `global_state` verdict.
Each is described by the identities of its entries, so replacing one by another of the same type
shows too."""

from __future__ import annotations

import copyreg
import sys
import threading
import zlib

import torch.serialization as _serialization

# Modules imported, or looked up in sys.modules, by the checker's code after the candidate's code
# was loaded (the profiler witness, the output's save, its pickler).
LOOKED_UP_LATER = ("torch", "torch.profiler", "torch.serialization", "torch.utils.serialization", "pickle", "copyreg", "io")

_checker_hidden = [False]  # set once the candidate worker took its own modules out of sys.modules


def checker_modules_hidden() -> None:
    _checker_hidden[0] = True


def _identities(items) -> str:
    return f"{len(items)} ({zlib.crc32(repr([id(i) for i in items]).encode()):08x})"


def _flat(table: dict) -> list:
    """Keys and values (not the item tuples, which are new objects at every read)."""
    return [*table.keys(), *table.values()]


def hooks_snapshot() -> dict[str, str]:
    planted = [n for n in sys.modules if n == "kernelwright" or n.startswith("kernelwright.")] if _checker_hidden[0] else []
    return {
        "hooks run by new threads": ", ".join(n for n in ("_profile_hook", "_trace_hook") if getattr(threading, n, None) is not None) or "none",
        "import hooks (sys.meta_path, sys.path_hooks)": f"{_identities(sys.meta_path)}, {_identities(sys.path_hooks)}",
        "modules the checker imports later, as sys.modules has them": _identities([sys.modules.get(n) for n in LOOKED_UP_LATER]),
        "the checker's own modules put back in sys.modules": ", ".join(sorted(planted)[:3]) or "none",
        "torch.save's location taggers and copyreg's tables": (
            f"{_identities(getattr(_serialization, '_package_registry', []))}, "
            f"{_identities(_flat(copyreg.dispatch_table))}, {_identities(_flat(copyreg._extension_registry))}"
        ),
    }
