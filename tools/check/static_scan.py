"""Static scan of a candidate solution: the cheats that are visible in the source.

Runs in the parent on the AST (the code is never executed here). It is the first line of the
integrity guards; the runtime guards in `kernelwright.tools.check.guards` catch what slips through.
A solution that needs none of these constructs loses nothing: honest kernels allocate, launch
and return.

This module is the entry point; the scan is split by concept:
- `static_rules`: the tables (forbidden modules, calls, attributes, global-state writes, ...);
- `static_names`: reading names out of the AST (dotted chains, constant getattr, bound names);
- `static_visitor`: the visitor that applies the tables and records each `Finding`;
- `static_resolve`: what a chain rooted at a module or builtin reaches, judged by object.
"""

from __future__ import annotations

from kernelwright.tools import pyast
from kernelwright.tools.check.static_names import bound_names
from kernelwright.tools.check.static_visitor import Finding, Scanner

__all__ = ["Finding", "scan_solution"]


def scan_solution(source: str) -> list[Finding]:
    """All static findings for a solution's source, in line order."""
    tree = pyast.parse(source)
    scanner = Scanner(bound_names(tree))
    scanner.visit(tree)
    return sorted(scanner.findings, key=lambda f: f.line)
