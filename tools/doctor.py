"""`kernelwright doctor`: what this machine supports, found by trying it.

The sandbox layers bubblewrap can give here (each namespace tried on its own), a sandboxed child
that imports torch and Triton (and sees the GPU, where there is one), Nsight Compute, the C
compiler Triton builds its launcher with, the toolchain's versions and the home folder. Exit 0
when every sandbox layer is available, 1 when the sandbox would run degraded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from typing_extensions import NotRequired, TypedDict

from kernelwright.tools.home import resolve_home
from kernelwright.tools.sandbox.isolation import IsolationReport

PROBE_CHILD = """
import json, sys
facts = {"python": sys.version.split()[0]}
try:
    import torch
    facts["torch"] = torch.__version__
    facts["cuda_available"] = torch.cuda.is_available()
    if facts["cuda_available"]:
        facts["gpu"] = torch.cuda.get_device_name(0)
        torch.ones(1, device="cuda").add_(1)
    import triton
    facts["triton"] = triton.__version__
except Exception as exc:
    facts["error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(facts))
"""


class SandboxFacts(IsolationReport):
    """The isolation a child gets here, and what was probed to find it."""

    bwrap: str | None
    namespaces: list[str]
    problems: list[str]
    landlock_abi: int | None


class ChildFacts(TypedDict):
    """What the probe child (PROBE_CHILD) found inside the sandbox, or the error it ended with."""

    python: NotRequired[str]
    torch: NotRequired[str]
    cuda_available: NotRequired[bool]
    gpu: NotRequired[str]
    triton: NotRequired[str]
    error: NotRequired[str]


class HomeFacts(TypedDict):
    path: str
    writable: bool


class DoctorReport(TypedDict):
    """`doctor --json`."""

    sandbox: SandboxFacts
    sandboxed_child: ChildFacts
    gpu_nodes: bool
    ncu: str | None
    compiler: str | None
    home: HomeFacts


def add_doctor_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="what this machine supports: sandbox layers, GPU, ncu, compiler, versions",
        description="Try each sandbox layer, run torch and Triton in a sandboxed child (on the GPU where there is one), "
        "and find Nsight Compute and the C compiler. Exit 0 if full isolation is available, 1 if the sandbox would "
        "run degraded. Example: kernelwright doctor --json",
    )
    p.add_argument("--home", help="kernelwright home to check (default: $KERNELWRIGHT_HOME or ~/.kernelwright)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_doctor)


def diagnose(home: Path) -> DoctorReport:
    from kernelwright.tools.profile.ncu import find_ncu
    from kernelwright.tools.sandbox.child import run_child, sandbox_for
    from kernelwright.tools.sandbox.policy import SandboxPolicy
    from kernelwright.tools.sandbox.support import gpu_visible, landlock_abi, probe

    support = probe()
    device = "cuda" if gpu_visible() else None
    isolation, _ = sandbox_for(SandboxPolicy(), 300.0, gpu=device is not None)
    with tempfile.TemporaryDirectory(prefix="kw-doctor-") as tmp:
        work = Path(tmp)
        (work / "kw_doctor_child.py").write_text(PROBE_CHILD)
        child = run_child(["kw_doctor_child"], work, timeout_s=300, log_name="doctor", device=device)
    try:
        inside: ChildFacts = json.loads(child.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        inside = {"error": (child.stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1]}
    return {
        "sandbox": {**isolation.to_dict(), "bwrap": support.bwrap, "namespaces": list(support.namespaces),
                    "problems": list(support.problems), "landlock_abi": landlock_abi()},
        "sandboxed_child": inside,
        "gpu_nodes": device is not None,
        "ncu": find_ncu(),
        "compiler": os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc"),
        "home": {"path": str(home), "writable": _writable(home)},
    }


def _writable(home: Path) -> bool:
    probe_dir = home if home.exists() else next((p for p in home.parents if p.exists()), Path("/"))
    return os.access(probe_dir, os.W_OK)


def _cmd_doctor(args: argparse.Namespace) -> int:
    report = diagnose(resolve_home(args.home))
    if args.json:
        from kernelwright.tools.output import print_json

        print_json(report)
    else:
        _print(report)
    return 0 if report["sandbox"]["full"] and "error" not in report["sandboxed_child"] else 1


def _print(report: DoctorReport) -> None:
    box = report["sandbox"]
    lines = [f"sandbox: {box['tool'] or 'none'}" + (f" ({box['bwrap']})" if box["bwrap"] else "") +
             (" - full isolation" if box["full"] else " - DEGRADED")]
    lines += [f"  active: {layer}" for layer in box["layers"]]
    lines += [f"  missing: {m}" for m in box["missing"]]
    lines += [f"  note: {n}" for n in box["notes"]]
    lines.append("  limits: " + ", ".join(f"{k}={v}" for k, v in box["limits"].items()))
    child = report["sandboxed_child"]
    if "error" in child:
        lines.append(f"sandboxed child: FAILED: {child['error']}")
    else:
        gpu = f", GPU {child['gpu']}" if child.get("gpu") else (", no GPU" if not report["gpu_nodes"] else ", GPU NOT USABLE inside")
        lines.append(f"sandboxed child: python {child['python']}, torch {child.get('torch')}, triton {child.get('triton')}{gpu}")
    lines.append(f"ncu: {report['ncu'] or 'not found (profile tier 1 unavailable)'}")
    lines.append(f"C compiler: {report['compiler'] or 'not found (Triton cannot build its launcher on a GPU)'}")
    home = report["home"]
    lines.append(f"home: {home['path']} ({'writable' if home['writable'] else 'NOT writable'})")
    print("\n".join(lines), file=sys.stderr)
