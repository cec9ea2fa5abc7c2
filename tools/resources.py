"""Static GPU resources of the solution's kernels, found on a CPU-only machine.

`compile_resources` compiles each kernel the candidate launched, with the launch signature recorded
under the interpreter, for a real CUDA target (sm_90 by default) in a sandboxed child, and reports
registers, spills, shared memory and a PTX instruction mix per kernel. Nothing the solution does
makes it raise: a kernel that does not compile, or a child that crashes or times out, becomes an
`{"kernel": ..., "error": "..."}` entry. A child that dies mid-kernel is restarted for the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from kernelwright.tools.sandbox.child import ChildResult, run_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.sandbox.redact import redact_tree
from kernelwright.tools.worker.events import KernelSignature
from kernelwright.tools.worker.launch_signature import LaunchSignature
from kernelwright.tools.worker.resources_protocol import RESOURCES, KernelResources, ResourcesRequest
from kernelwright.tools.worker.wire import from_child

SIGNATURE: TypeAdapter[KernelSignature] = TypeAdapter(KernelSignature)

# Triton prints the ptxas log it otherwise throws away; every compile runs ptxas (no cache hits).
# TRITON_INTERPRET is not on the sandbox allow-list, so the child compiles real JITFunctions.
CHILD_ENV = {"TRITON_DUMP_PTXAS_LOG": "1", "TRITON_ALWAYS_COMPILE": "1"}


def _why(child: ChildResult, kernel: str) -> str:
    if child.timed_out:
        return f"timed out after {child.wall_s:.0f}s before {kernel} was compiled"
    if child.signal_name:
        return f"the compiler crashed on {kernel} ({child.signal_name})"
    tail = [ln for ln in child.stderr.strip().splitlines() if ln.strip()]
    last = tail[-1].strip()[:300] if tail else "no output"
    return f"the resources child exited with {child.returncode} on {kernel}: {last}"


def _read_results(path: Path, pending: list[KernelSignature]) -> list[KernelResources]:
    """The child's entries, as far as they answer the pending signatures in order. The child ran
    the solution's code: an entry that does not fit `KernelResources` ends the answer there (the
    kernel it stands for is then blamed on the child, as when it died)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    done: list[KernelResources] = []
    for entry, sig in zip(data if isinstance(data, list) else [], pending):
        try:
            [checked] = RESOURCES.validate_python([redact_tree(entry)])
        except ValidationError:
            break
        if checked.get("kernel") != sig.kernel:
            break
        done.append(checked)
    return done


def compile_resources(
    solution_path: Path,
    signatures: Sequence[KernelSignature] | Sequence[LaunchSignature],
    workdir: Path,
    timeout_s: float,
    arch: int = 90,
) -> list[KernelResources]:
    """One entry per signature, in order: resource numbers with `"error": None`, or the error.
    `signatures` as the check recorded them, or as JSON a signatures child wrote (the static profile
    tier, the expert's fit report: validated here, like everything a child sends)."""
    workdir.mkdir(parents=True, exist_ok=True)
    req_path, result_path = workdir / "resources_request.json", workdir / "resources.json"
    deadline = time.monotonic() + timeout_s
    results: list[KernelResources] = []
    pending = [s if isinstance(s, KernelSignature) else from_child(SIGNATURE, s, "a recorded kernel signature") for s in signatures]
    while pending:
        left = deadline - time.monotonic()
        if left < 1.0:
            results += [{"kernel": s.kernel, "error": "not compiled: time budget spent", "unverified": True} for s in pending]
            break
        result_path.unlink(missing_ok=True)
        req = ResourcesRequest(solution=str(Path(solution_path).resolve()), signatures=pending, arch=arch, result_path=str(result_path))
        req_path.write_text(req.model_dump_json())
        child = run_child(
            ["kernelwright.tools.worker", "resources", str(req_path)],
            workdir, left, env_extra=CHILD_ENV, log_name="resources",
            mounts=Mounts(readable=(Path(solution_path).resolve(),)),
        )
        done = _read_results(result_path, pending)
        results += done
        pending = pending[len(done):]
        if pending:  # the child died on pending[0]: blame it, then retry the rest in a fresh child
            results.append({"kernel": pending[0].kernel, "error": _why(child, pending[0].kernel), "unverified": True})
            pending = pending[1:]
    return results
