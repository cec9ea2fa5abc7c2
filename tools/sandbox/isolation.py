"""The isolation a sandboxed child actually got, as every verdict reports it (`"isolation": {...}`)."""

from __future__ import annotations

import dataclasses
import os

from typing_extensions import TypedDict

from kernelwright.tools.problem import InputError
from kernelwright.tools.sandbox.limits import Limits
from kernelwright.tools.sandbox.support import NAMESPACES, Support

# Every layer of a full sandbox, in the order the docs list them.
ALL_LAYERS = ("network", "processes", "filesystem", "ipc", "hostname", "user", "die_with_parent",
              "whole_tree_kill", "environment", "file_descriptors", "limits")
_NAMESPACE_LAYER = {"net": "network", "pid": "processes", "ipc": "ipc", "uts": "hostname", "user": "user"}


class IsolationRequired(InputError):
    """Full isolation was required (config `sandbox.require_full`) and this machine cannot give it."""


class IsolationReport(TypedDict):
    """`Isolation` as every check result and `doctor --json` report it."""

    tool: str | None
    full: bool
    layers: list[str]
    missing: list[str]
    limits: dict[str, int | None]
    notes: list[str]


@dataclasses.dataclass(frozen=True)
class Isolation:
    tool: str | None  # "bubblewrap 0.11.0", or None for the degraded sandbox
    layers: tuple[str, ...]
    missing: tuple[str, ...]  # one line per missing layer: which and why
    limits: dict[str, int | None]
    notes: tuple[str, ...] = ()

    @property
    def full(self) -> bool:
        return not self.missing

    def to_dict(self) -> IsolationReport:
        return {"tool": self.tool, "full": self.full, "layers": list(self.layers), "missing": list(self.missing),
                "limits": self.limits, "notes": list(self.notes)}

    def summary(self) -> str:
        head = f"{self.tool or 'no OS sandbox'}: " + ", ".join(self.layers)
        return head + ("" if self.full else f"; MISSING {', '.join(m.split(':')[0] for m in self.missing)}")


def isolation_of(support: Support, limits: Limits) -> Isolation:
    """What a child started with `support` and `limits` gets."""
    layers = ["environment", "file_descriptors", "limits"]
    missing: list[str] = []
    if support.usable:
        layers += ["filesystem", "die_with_parent"]
        for ns, layer in _NAMESPACE_LAYER.items():
            if ns in support.namespaces:
                layers.append(layer)
            else:
                why = next((p for p in support.problems if p.startswith(ns)), "not available")
                missing.append(f"{layer}: {NAMESPACES[ns].split(':')[1].strip()} — {why}")
        if "pid" in support.namespaces:
            layers.append("whole_tree_kill")
        else:
            missing.append("whole_tree_kill: without a PID namespace a process that leaves the child's session survives a kill")
    else:
        layers.append("die_with_parent")
        missing += [f"{layer}: {why}" for layer, why in (
            ("network", "no bubblewrap: the child can open network connections"),
            ("processes", "no bubblewrap: the child sees other processes and their /proc"),
            ("filesystem", "no bubblewrap: the child sees the whole file system with the user's rights"),
            ("ipc", "no bubblewrap"), ("hostname", "no bubblewrap"), ("user", "no bubblewrap"),
            ("whole_tree_kill", "no bubblewrap: a process that leaves the child's session survives a kill"),
        )]
        missing += [f"bubblewrap: {p}" for p in support.problems]
    notes = []
    if os.geteuid() == 0:
        notes.append("running as root: the kernel does not apply the process-count limit to root")
    tool = f"bubblewrap {support.version.split()[-1]}" if support.usable and support.version else ("bubblewrap" if support.usable else None)
    ordered = tuple(layer for layer in ALL_LAYERS if layer in layers)
    return Isolation(tool=tool, layers=ordered, missing=tuple(missing), limits=limits.describe(), notes=tuple(notes))
