"""torch's switches that run ops past the op accountant, watched in the candidate's process.

The accountant (`op_accounting.OpAccountant`) is a TorchDispatchMode: it sees every aten op while
it is on torch's mode stack and torch's Python dispatch is on. Red team pass 8 took it off the
stack mid-forward through `torch._C._pop_torch_dispatch_stack` (reached by a path in a string,
`string.Formatter().get_field`, and by `getattr` passed as a value), computed the answer with
torch unseen, and pushed it back: the stack was as long as before. Every route to such a switch,
however the name was reached, ends in one of a few functions and guard classes of `torch._C`; each
is wrapped here, and every alias of it in a loaded module replaced, before the candidate's code
loads (modules imported later take the wrapper from `torch._C`).

A use counts when the solution's code is on the stack (a frame of the solution's file, as for
`guards.OperatorRegistrations`): torch's own uses while the worker works are not the candidate's.
A pop counts only when it takes an accountant off outside that accountant's own exit, on behalf of
the solution (torch's tensor printer does it too, when the solution prints; the checker's own
interpreter emulation does it for its torch code). The count is
part of `guards.global_state_snapshot`, so a forward (or import, or constructor) that used one is
judged `global_state`, and the wrappers' names are sealed (`guards.NameSeal`).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import torch

# Guards and switches that run ops below the Python dispatch key, or without the mode stack.
SWITCHES = (
    "_DisableTorchDispatch", "_DisablePythonDispatcher", "_ExcludeDispatchKeyGuard", "ExcludeDispatchKeyGuard",
    "_SetExcludeDispatchKeyGuard", "_ForceDispatchKeyGuard", "_set_dispatch_mode", "_unset_dispatch_mode",
    "_disabled_torch_dispatch_impl",
    # Red team pass 14: the dispatch keys' thread-local sets, switched directly (the Python key
    # excluded, torch's work never reached the accountant's mode).
    "_dispatch_tls_set_dispatch_key_excluded", "_dispatch_tls_set_dispatch_key_included", "_IncludeDispatchKeyGuard",
)

# The RNG's state and seed (red team pass 9: ModelNew's __init__ copied the state, drew Model's
# weights again and built an answer table from them before the first call). The generator's own
# methods (`torch.default_generator.get_state()`) cannot be wrapped: the static scan refuses their
# names.
RNG_READERS = (
    ("torch.random", "get_rng_state"), ("torch.random", "initial_seed"), ("torch.random", "fork_rng"),
    ("torch.cuda.random", "get_rng_state"), ("torch.cuda.random", "get_rng_state_all"), ("torch.cuda.random", "initial_seed"),
)


class DispatchBypass:
    count = 0
    uses: list[str] = []

    @classmethod
    def install(cls, origins: Any, unexpected_pop: Any) -> None:
        """`unexpected_pop(mode)`: whether taking `mode` off the stack now is not an accountant's
        own exit (`op_accounting.unexpected_pop`: by identity, which no attribute changes)."""
        from kernelwright.tools import check as check_package
        from kernelwright.tools import worker as worker_package
        from kernelwright.tools.check.code_origin import Origin

        def by_candidate() -> bool:
            frame = sys._getframe(2)
            while frame is not None:
                if origins.of(frame.f_code.co_filename) is Origin.CANDIDATE:
                    return True
                frame = frame.f_back
            return False

        def note(name: str) -> None:
            cls.count += 1
            if len(cls.uses) < 8:
                cls.uses.append(name)

        replacements: dict[int, Any] = {}
        original_pop = torch._C._pop_torch_dispatch_stack

        checker = tuple(str(Path(m.__file__).parent) + "/" for m in (check_package, worker_package))

        def for_candidate() -> bool:
            """Whether the nearest frame that is the checker's or the solution's is the solution's
            (the checker's interpreter emulation steps aside for its own torch code)."""
            frame = sys._getframe(2)
            while frame is not None:
                name = frame.f_code.co_filename
                if name.startswith(checker):
                    return False
                if origins.of(name) is Origin.CANDIDATE:
                    return True
                frame = frame.f_back
            return False

        def pop(*args: Any, **kwargs: Any) -> Any:
            mode = original_pop(*args, **kwargs)
            if unexpected_pop(mode) and for_candidate():
                note("_pop_torch_dispatch_stack (the checker's accountant)")
            return mode

        replacements[id(original_pop)] = pop
        for name in SWITCHES:
            original = getattr(torch._C, name, None)
            if original is None:
                continue

            def switch(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                if by_candidate():
                    note(_name)
                return _original(*args, **kwargs)

            replacements[id(original)] = switch
        originals = {id(getattr(torch._C, n)): getattr(torch._C, n) for n in (*SWITCHES, "_pop_torch_dispatch_stack") if hasattr(torch._C, n)}
        for owner, name in RNG_READERS:
            original = getattr(importlib.import_module(owner), name, None)
            if original is None:
                continue

            def reader(*args: Any, _original: Any = original, _name: str = f"{owner}.{name}", **kwargs: Any) -> Any:
                if for_candidate():  # the checker's own reads of the state (its snapshots) are not the solution's
                    note(f"{_name} (the RNG's state: Model's weights replayed)")
                return _original(*args, **kwargs)

            replacements[id(original)] = reader
            originals[id(original)] = original
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for key, value in list(namespace.items()):
                if id(value) in replacements and originals.get(id(value)) is value:
                    namespace[key] = replacements[id(value)]

    @classmethod
    def described(cls) -> str:
        return f"{cls.count} ({', '.join(cls.uses)})" if cls.count else "0"
