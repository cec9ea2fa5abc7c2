"""Tier 3, static: the compiler's view of the solution's Triton kernels, on any machine.

One forward in a child records each own kernel's launch signature (on the CPU under Triton's
interpreter, without executing the kernels); `compile_resources` compiles each for the GPU target
(sm_90 unless the GPU here says otherwise) and reads registers, spills, shared memory and the
PTX instruction mix; `theoretical_occupancy` turns those into blocks and warps per SM and the
resource that limits them. Nothing is timed.
"""

from __future__ import annotations

from pathlib import Path

from kernelwright.tools.profile.answers import SIGNATURES, read_answer
from kernelwright.tools.profile.metrics import StaticKernel, StaticMetrics
from kernelwright.tools.profile.occupancy import theoretical_occupancy
from kernelwright.tools.profile.report import TierResult
from kernelwright.tools.resources import compile_resources
from kernelwright.tools.sandbox.child import ChildResult, run_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.worker.profile_protocol import SignaturesAnswer, SignaturesRequest, SubjectAnswer
from kernelwright.tools.worker.resources_protocol import KernelResources

MIX_KEYS = ("ptx_lines", "ld_global", "st_global", "ld_shared", "st_shared", "cp_async", "mma", "wgmma", "bar_sync", "atomic")


def child_failure(child: ChildResult, result: SubjectAnswer, what: str) -> str:
    """One line saying why a profiling child gave no answer."""
    if result.get("error"):
        lines = [ln for ln in str(result["error"]).strip().splitlines() if ln.strip()]
        return f"{what} failed ({result.get('stage', 'run')}): {lines[-1].strip()[:240] if lines else 'no message'}"
    if child.timed_out:
        return f"{what} timed out after {child.wall_s:.0f}s"
    if child.signal_name:
        return f"{what} crashed ({child.signal_name})"
    tail = [ln for ln in child.stderr.strip().splitlines() if ln.strip()]
    return f"{what} exited with {child.returncode}: {tail[-1].strip()[:240] if tail else 'no output'}"


def record_signatures(problem_path: Path, solution_path: Path, device: str, workdir: Path, timeout_s: float) -> tuple[SignaturesAnswer, str | None]:
    """The signatures child's answer, and None or the reason it failed."""
    workdir.mkdir(parents=True, exist_ok=True)
    result_path = workdir / "signatures.result.json"
    request = workdir / "signatures.request.json"
    SignaturesRequest(problem_path=str(problem_path), solution_path=str(solution_path), device=device,
                      result_path=str(result_path)).write(request)
    env = {"TRITON_INTERPRET": "1"} if device == "cpu" else {}
    child = run_child(["kernelwright.tools.worker.profile_signatures", str(request)], workdir, timeout_s, env, log_name="signatures",
                      mounts=Mounts(readable=(Path(problem_path), Path(solution_path))), device=device)
    result = read_answer(SIGNATURES, result_path, {})
    return result, None if result.get("ok") else child_failure(child, result, "the forward that records kernel launches")


def kernel_rows(resources: list[KernelResources], arch: int) -> list[StaticKernel]:
    rows: list[StaticKernel] = []
    for r in resources:
        if r.get("error"):
            rows.append({"kernel": r.get("kernel"), "error": r["error"]})
            continue
        occ = theoretical_occupancy(r["registers"], r.get("num_warps", 4), r.get("shared_bytes", 0), arch)
        rows.append({
            "kernel": r["kernel"], "registers_per_thread": r["registers"], "spills_bytes": r.get("spills", 0),
            "shared_bytes": r.get("shared_bytes", 0), "num_warps": r.get("num_warps"), "num_stages": r.get("num_stages"),
            "theoretical_occupancy_pct": occ.occupancy_pct, "warps_per_sm": occ.warps_per_sm,
            "occupancy_limiter": occ.limiter, "ptx_mix": {k: r[k] for k in MIX_KEYS if k in r},
        })
    return rows


def static_profile(
    problem_path: Path,
    solution_path: Path | None,
    solution_source: str,
    device: str,
    workdir: Path,
    timeout_s: float,
    arch: int = 90,
    known_resources: list[KernelResources] | None = None,
) -> TierResult:
    """{"metrics", "resources", "missing", "device_facts"}; never raises for the subject's faults."""
    missing: list[str] = []
    metrics: StaticMetrics = {"arch": f"sm_{arch}", "kernels": []}
    out: TierResult = {"metrics": metrics, "resources": None, "missing": missing, "device_facts": {}}
    if solution_path is None:
        missing.append("static resources: the reference is eager PyTorch, with no Triton kernels of its own to compile")
        return out
    if "load_inline" in solution_source:
        missing.append("static resources: the solution's kernels are CUDA C++ (load_inline); the static tier compiles Triton kernels only (tier 1 on a GPU reports their registers)")
        return out
    resources = known_resources
    if resources is None:
        recorded, failure = record_signatures(problem_path, solution_path, device, workdir, timeout_s)
        out["device_facts"] = recorded.get("device_facts") or {}
        metrics["own_launches_per_call"] = sum((recorded.get("own_launches") or {}).values()) or None
        signatures = recorded.get("signatures") or []
        if failure and not signatures:
            missing.append(f"static resources: {failure}")
            return out
        if not signatures:
            missing.append("static resources: the forward launched none of the solution's own Triton kernels")
            return out
        resources = compile_resources(solution_path, signatures, workdir / "resources", timeout_s, arch=arch)
    out["resources"] = resources
    metrics["kernels"] = kernel_rows(resources, arch)
    for row in metrics["kernels"]:
        if row.get("error"):
            missing.append(f"static resources of {row['kernel']}: {row['error']}")
    return out
