"""Whose code is running: the candidate's, the standard library's, or a library's (torch, Triton,
the checker). Used inside the candidate's process to decide who asked for an operation.

A frame belongs to the code object it runs, and a code object's file name is fixed when it is
compiled: the solution is compiled from its own file by the worker, and the candidate cannot
compile anything itself (the audit hook refuses it), nor build code objects (`code.__new__`,
`__code__` reads are refused too). So a file name under the standard library or site-packages is
evidence of who runs, not a claim the candidate can make.
"""

from __future__ import annotations

import enum
import os
import site
import sys
import sysconfig
from pathlib import Path
from types import FrameType


class Origin(enum.Enum):
    CANDIDATE = "candidate"  # the solution, and anything not installed (exec'd strings, stray files)
    STDLIB = "stdlib"  # passes requests through (inspect, traceback, dataclasses, ...)
    LIBRARY = "library"  # torch, Triton, other installed packages, the checker itself


def _library_roots() -> list[str]:
    import kernelwright
    import kernelwright.tools

    roots = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    roots.update(site.getsitepackages())
    roots.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    roots.add(str(Path(kernelwright.__file__).parent))
    roots.add(str(Path(kernelwright.tools.__file__).parent))
    return sorted({str(Path(r).resolve()) + "/" for r in roots if r})


def _installed_on_pythonpath() -> frozenset[str]:
    """The files pip installed into folders on PYTHONPATH (a `pip install --target DIR` layout
    keeps packages there instead of site-packages): each listed in its distribution's RECORD.
    Only those files, not the folders: a folder on PYTHONPATH may also hold files nobody
    installed (the problem's folder, a test's scratch folder). The environment is the checker's,
    read before any candidate code runs; the candidate cannot write these folders (read-only in
    its sandbox)."""
    from importlib.metadata import distributions

    entries = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).is_absolute() and Path(p).is_dir()]
    files: set[str] = set()
    for dist in distributions(path=entries) if entries else ():
        for file in dist.files or ():
            if file.suffix == ".py":
                files.add(str(Path(dist.locate_file(file)).resolve()))
    return frozenset(files)


def _stdlib_roots() -> list[str]:
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    return sorted({str(Path(r).resolve()) + "/" for r in roots if r})


class CodeOrigins:
    """Classifies code file names (cached: one dict lookup per frame after the first)."""

    def __init__(self, solution_file: str, library_roots: list[str] | None = None, stdlib_roots: list[str] | None = None) -> None:
        self.solution_file = str(Path(solution_file).resolve())
        self.library_roots = tuple(library_roots if library_roots is not None else _library_roots())
        self.stdlib_roots = tuple(stdlib_roots if stdlib_roots is not None else _stdlib_roots())
        self.installed_files = _installed_on_pythonpath() if library_roots is None else frozenset()
        self._cache: dict[str, Origin] = {}
        self._trusted: tuple[str, ...] = ()

    def trust(self, path: str) -> None:
        """Treat `path` (the problem file, when the timing phase loads it) as library code."""
        self._cache = {k: v for k, v in self._cache.items() if k != path}
        self._trusted = (*self._trusted, str(Path(path).resolve()))

    def of(self, filename: str) -> Origin:
        origin = self._cache.get(filename)
        if origin is None:
            origin = self._cache[filename] = self._classify(filename)
        return origin

    def _classify(self, filename: str) -> Origin:
        if filename.startswith("<frozen "):
            return Origin.STDLIB
        if not filename.startswith("/"):
            return Origin.CANDIDATE  # "<string>", "<stdin>": code built from text at run time
        path = str(Path(filename).resolve())
        if path == self.solution_file:
            return Origin.CANDIDATE
        if path in self._trusted or path in self.installed_files:
            return Origin.LIBRARY
        # Library roots first: site-packages may live inside the standard library's folder.
        if path.startswith(self.library_roots):
            return Origin.LIBRARY
        if path.startswith(self.stdlib_roots):
            return Origin.STDLIB
        return Origin.CANDIDATE

    def requester(self, frame: FrameType | None) -> tuple[Origin, FrameType | None]:
        """The first frame outward from `frame` that is not the standard library's, and its origin:
        who asked, when the standard library only passes the request on."""
        while frame is not None:
            origin = self.of(frame.f_code.co_filename)
            if origin is not Origin.STDLIB:
                return origin, frame
            frame = frame.f_back
        return Origin.STDLIB, None

    def innermost_outside(self, frame: FrameType | None, skip: tuple[str, ...]) -> FrameType | None:
        """The first frame outward whose file is not under one of the `skip` folders."""
        while frame is not None and frame.f_code.co_filename.startswith(skip):
            frame = frame.f_back
        return frame
