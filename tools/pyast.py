"""`ast.parse` behind one process-wide lock.

CPython 3.11 keeps the AST constructor's recursion depth in shared state: when a garbage
collection during one thread's parse runs a finaliser and the interpreter switches to another
thread that parses too, the first fails with "SystemError: AST constructor recursion depth
mismatch". The graph checks K candidates in parallel threads, and each check parses the problem
and the solution, so every parse in the CLI's process goes through here.
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.Lock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    with _LOCK:
        return ast.parse(source, filename=filename)
