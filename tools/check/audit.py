"""The runtime audit in the candidate's process: what the candidate's code may not do, however it
got there.

A CPython audit hook (`sys.addaudithook`, PEP 578) is installed before the solution is imported;
once added it cannot be removed. CPython raises an audit event for what reaches interpreter and
OS internals: frames (`sys._getframe`, reads of `tb_frame`, `gi_frame`, `__code__`, ...), the
garbage collector's object lists, ctypes, code objects, compile/exec, imports, files, processes,
sockets, trace/profile hooks. The static scan rejects the names it can see; this hook refuses the
events at run time whatever route reached them (an attribute chain, a constant-name `getattr`, a
library function that does it on the caller's behalf).

Who asked decides (`CodeOrigins.requester`): the first frame outward that is not the standard
library's. Torch, Triton and the checker do many of these things for themselves (Triton reads
kernel sources, compiles and executes its interpreter's rewritten kernels, runs ptxas); that is
allowed. The candidate asking, directly or through the standard library (`inspect.currentframe`,
`traceback.walk_stack`), is refused, except where a standard-library code generator does it for
itself with names it validated (`dataclasses`, `collections.namedtuple`, `typing`, `enum`) and
where the import machinery loads a module (judged by its name, at the `import` event).

A refusal ends the process at once (`os._exit(AUDIT_EXIT)`), after a signed `refused` event
naming the event and the solution's line: an exception could be caught by the candidate, an exit
cannot. The parent turns either into a `static_violation`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.tools.check.code_origin import CodeOrigins, Origin

AUDIT_EXIT = 86  # the candidate process's exit status after a refusal

# Events a candidate may cause directly; anything else it asks for is refused.
ALLOWED_EVENTS = frozenset({"builtins.id", "time.sleep", "array.__new__", "object.__setattr__", "object.__delattr__"})
# Standard-library modules that generate code or read frames for themselves, from names they
# validated: a request that passes through them is theirs (a dataclass, a namedtuple, an enum).
CODEGEN_STDLIB = ("dataclasses.py", "collections/__init__.py", "typing.py", "enum.py")
# Modules the candidate may not import at run time (first-time loads raise the `import` event).
FORBIDDEN_IMPORT_ROOTS = frozenset(
    """
    kernelwright ctypes _ctypes subprocess _posixsubprocess socket _socket multiprocessing
    _multiprocessing concurrent asyncio gc inspect importlib pickle _pickle marshal shelve
    mmap fcntl pty signal resource ptrace cffi numba cupy jax tensorflow
    """.split()
)
# What each refused event means, for the verdict (the first matching prefix wins).
MEANINGS = (
    ("sys._getframe", "reached the interpreter's frames (where the checker's state lives)"),
    ("sys._current_frames", "reached the interpreter's frames (where the checker's state lives)"),
    ("sys._current_exceptions", "reached the interpreter's frames (where the checker's state lives)"),
    ("object.__getattr__", "read a frame or code object attribute"),
    ("gc.", "dug objects out of the garbage collector"),
    ("ctypes.", "touched raw memory through ctypes"),
    ("code.__new__", "built a code object"),
    ("function.__new__", "built a function from a code object"),
    ("compile", "compiled a string as code"),
    ("exec", "executed code it built at run time"),
    ("import", "imported a module that is not allowed"),
    ("open", "opened a file"),
    ("os.", "used the operating system"),
    ("subprocess.", "started a process"),
    ("socket.", "opened a network connection"),
    ("sys.settrace", "installed a trace hook"),
    ("sys.setprofile", "installed a profile hook"),
    ("sys.addaudithook", "installed an audit hook"),
    ("builtins.input", "read the checker's input"),
)


@dataclasses.dataclass(frozen=True)
class Refusal:
    event: str
    detail: str
    where: str  # "solution.py:12" (the candidate's frame that asked)

    @property
    def message(self) -> str:
        meaning = next((m for prefix, m in MEANINGS if self.event.startswith(prefix)), "did something the checker forbids")
        return f"{self.where}: refused at run time: the solution {meaning} ({self.event}{': ' + self.detail if self.detail else ''})"


def _detail(event: str, args: tuple[Any, ...]) -> str:
    if event == "object.__getattr__" and len(args) == 2:
        return f".{args[1]} of {type(args[0]).__name__}"
    if event in ("import", "open") and args:
        return str(args[0])[:120]
    if event == "compile" and len(args) > 1:
        return f"source of {args[1]}"
    return ""


# Starting a program or loading a shared library: how native code gets in (a compiler run by
# torch.utils.cpp_extension, then dlopen). Under Triton's interpreter nothing a solution may do
# needs either, so there they are refused whoever asks (red team: `cpp_extension.load` of a file
# that is both Python and C++ was allowed because torch's frames ran the compiler).
NATIVE_CODE_EVENTS = ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork", "os.spawn", "os.system", "ctypes.dlopen")


class CandidateAudit:
    """The audit hook of the candidate's process. `arm` before the solution is imported.
    `native_code`: whether programs may start and libraries load on the candidate's behalf (a GPU
    build runs ptxas and loads the kernels it compiled; the interpreter needs neither)."""

    def __init__(self, origins: CodeOrigins, read_roots: tuple[str, ...] = (), native_code: bool = True) -> None:
        self.origins = origins
        self.native_code = native_code
        # Files the candidate's code may cause to be read: its own source (warnings and
        # tracebacks show its lines) and installed code.
        self.read_roots = (origins.solution_file, *origins.library_roots, *origins.stdlib_roots, *read_roots)
        self.armed = False
        self.report: Callable[[Refusal], None] | None = None
        self._busy: set[int] = set()
        self._get_ident = threading.get_ident
        self._getframe = sys._getframe
        self._exit, self._write = os._exit, os.write

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def arm(self, report: Callable[[Refusal], None] | None = None) -> None:
        self.report = report
        self.armed = True

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.armed or event in ALLOWED_EVENTS:
            return
        me = self._get_ident()
        if me in self._busy:
            return  # the hook's own frame reads
        self._busy.add(me)
        try:
            refusal = self._judge(event, args, self._getframe(1))
        finally:
            self._busy.discard(me)
        if refusal is not None:
            self._refuse(refusal)

    def _judge(self, event: str, args: tuple[Any, ...], frame: Any) -> Refusal | None:
        direct = frame.f_code.co_filename if frame is not None else ""
        if event == "import":
            root = str(args[0]).split(".")[0] if args else ""
            if root not in FORBIDDEN_IMPORT_ROOTS:
                return None
        elif direct.startswith("<frozen importlib"):
            return None  # the import machinery loading an allowed module
        if not self.native_code and event.startswith(NATIVE_CODE_EVENTS):
            who = self._candidate_frame(frame)
            where = f"{Path(who.f_code.co_filename).name}:{who.f_lineno}" if who is not None else "?"
            return Refusal(event, "native code is not judged under the interpreter: CUDA C++ needs --device cuda", where)
        origin, who = self._requester(frame)
        if origin is not Origin.CANDIDATE:
            return None
        if event == "open" and self._harmless_open(args):
            return None
        where = f"{Path(who.f_code.co_filename).name}:{who.f_lineno}" if who is not None else "?"
        return Refusal(event, _detail(event, args), where)

    def _requester(self, frame: Any) -> tuple[Origin, Any]:
        """Like `CodeOrigins.requester`, but a request passing through a standard-library code
        generator is that generator's own."""
        origins = self.origins
        while frame is not None:
            filename = frame.f_code.co_filename
            origin = origins.of(filename)
            if origin is not Origin.STDLIB:
                return origin, frame
            if filename.endswith(CODEGEN_STDLIB):
                return Origin.STDLIB, frame
            frame = frame.f_back
        return Origin.STDLIB, None

    def _candidate_frame(self, frame: Any) -> Any:
        """The innermost of the candidate's frames on the stack (whoever asked), for the message."""
        while frame is not None and self.origins.of(frame.f_code.co_filename) is not Origin.CANDIDATE:
            frame = frame.f_back
        return frame

    def _harmless_open(self, args: tuple[Any, ...]) -> bool:
        if not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return False  # a descriptor: the checker's pipes and logs
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC):
            return False
        path = os.fsdecode(args[0])
        return os.path.realpath(path).startswith(self.read_roots)

    def _refuse(self, refusal: Refusal) -> None:
        self.armed = False  # what follows is the checker's
        try:
            if self.report is not None:
                self.report(refusal)
            self._write(2, (refusal.message + "\n").encode())
        finally:
            self._exit(AUDIT_EXIT)
