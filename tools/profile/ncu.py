"""Tier 1, Nsight Compute: the forward under `ncu` in the sandbox, restricted to the solution's kernels.

The child `profile_ncu_launch` execs `ncu ... python -m kernelwright.tools.worker.profile_run`,
so ncu and the candidate share the sandbox (process group, timeout, environment allow-list).
ncu starts with `--profile-from-start off`: only the `calls` forwards the worker brackets with
cudaProfilerStart/Stop are seen, never warm-up, JIT compilation or autotuning; `--kernel-name
regex:` keeps to the solution's own kernels (named statically from its source) and
`--launch-count` bounds the work; compiler subprocesses are left alone (`--target-processes
application-only`). Clocks are left as they are (`--clock-control none`, as the
check's event timing sees them) and caches are flushed before each replay (`--cache-control
all`, as the check flushes L2). The report is read back with `ncu --import --csv` and parsed by
`profile_ncu_csv`. ncu's own errors — above all the counter-permission error of rented
containers — become a one-line reason and the caller falls through to the next tier.
"""

from __future__ import annotations

import ast
import dataclasses
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

from kernelwright.tools import pyast
from kernelwright.tools.file_lock import machine_lock
from kernelwright.tools.profile.answers import PROFILE_RUN, read_answer
from kernelwright.tools.profile.ncu_csv import parse_ncu_csv, summarize_launches
from kernelwright.tools.profile.report import TierResult
from kernelwright.tools.profile.static import child_failure
from kernelwright.tools.sandbox.child import run_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.worker.profile_protocol import NcuLaunchRequest, ProfileRunAnswer, ProfileRunRequest

# Verified on the H100 with ncu 2025.3.1 (benchmarks/ncu_capture.sh; tests/data/ncu).
CORE_METRICS = (
    "gpu__time_duration.sum", "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "lts__t_sectors.avg.pct_of_peak_sustained_elapsed", "l1tex__throughput.avg.pct_of_peak_sustained_active",
    "sm__throughput.avg.pct_of_peak_sustained_elapsed", "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
    "sm__warps_active.avg.pct_of_peak_sustained_active", "sm__maximum_warps_per_active_cycle_pct",
    "launch__registers_per_thread", "launch__shared_mem_per_block_static", "launch__shared_mem_per_block_dynamic",
    "smsp__inst_executed.sum", "launch__occupancy_limit_registers", "launch__occupancy_limit_shared_mem",
    "launch__occupancy_limit_warps", "launch__occupancy_limit_blocks",
)
STALL_REASONS = (
    "barrier", "branch_resolving", "dispatch_stall", "drain", "imc_miss", "lg_throttle", "long_scoreboard",
    "math_pipe_throttle", "membar", "mio_throttle", "misc", "no_instruction", "not_selected", "selected",
    "short_scoreboard", "sleeping", "tex_throttle", "wait",
)
# Standard names, but not in the verified capture: if this ncu lacks one, the run is repeated
# with CORE_METRICS alone and the profile says what is missing.
EXTRA_METRICS = (
    "lts__throughput.avg.pct_of_peak_sustained_elapsed", "gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",
    "smsp__sass_inst_executed_op_local_ld.sum", "smsp__sass_inst_executed_op_local_st.sum",
    "smsp__average_warp_latency_per_inst_issued.ratio",
    *(f"smsp__average_warps_issue_stalled_{r}_per_issue_active.ratio" for r in STALL_REASONS),
)
NCU_CALLS = 3
MAX_LAUNCHES_PER_CALL = 20  # a forward with more own kernels is profiled in part (said so)
IMPORT_TIMEOUT_S = 120.0
NCU_GLOBS = ("/opt/nvidia/nsight-compute/*/ncu", "/usr/local/cuda*/bin/ncu", "/usr/local/cuda*/nsight-compute*/ncu")


def find_ncu(env: dict[str, str] | None = None) -> str | None:
    """$KERNELWRIGHT_NCU, else `ncu` on PATH, else $CUDA_HOME/bin/ncu, else the newest standard install."""
    env = os.environ if env is None else env
    explicit = env.get("KERNELWRIGHT_NCU")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("ncu", path=env.get("PATH"))
    if found:
        return found
    cuda_home = env.get("CUDA_HOME") or env.get("CUDA_PATH")
    candidates = [os.path.join(cuda_home, "bin", "ncu")] if cuda_home else []
    for pattern in NCU_GLOBS:
        candidates += sorted(glob.glob(pattern), reverse=True)
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


def own_kernel_names(source: str) -> list[str]:
    """Names of the kernels a solution defines: @triton.jit functions (also under autotune or
    heuristics) and `__global__` functions in CUDA source strings."""
    names: list[str] = []
    try:
        tree = pyast.parse(source)
    except SyntaxError:
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any("jit" in ast.unparse(d) for d in node.decorator_list):
            names.append(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "__global__" in node.value:
            names += re.findall(r"__global__\s+(?:static\s+)?void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(", node.value)
    return sorted(set(names))


def ncu_failure_reason(output: str) -> str | None:
    """A one-line reason for ncu's own failure, from its output; None if it reported none."""
    if "ERR_NVGPUCTRPERM" in output:
        return ("ncu may not read the GPU's performance counters here (ERR_NVGPUCTRPERM): profiling is restricted "
                "to admin users on this machine; run as root, set the driver option NVreg_RestrictProfilingToAdminUsers=0, "
                "or give the container CAP_SYS_ADMIN")
    missing = re.findall(r"Failed to find metric[s]?\s+(?:regex:)?([\w.,\s]+)", output)
    if missing:
        return f"this ncu does not know metric(s): {missing[0].strip()[:200]}"
    if "No kernels were profiled" in output:
        return "ncu profiled no kernels: none of the forward's launches matched the kernel filter"
    if "not supported on this device" in output.lower() or "device not supported" in output.lower():
        return "ncu does not support profiling this GPU"
    errors = [ln.split("==ERROR==", 1)[1].strip() for ln in output.splitlines() if "==ERROR==" in ln]
    errors = [e for e in errors if not e.startswith("The application returned an error code")]
    return f"ncu: {errors[0][:240]}" if errors else None


def ncu_command(ncu: str, report: Path, metrics: tuple[str, ...], kernel_regex: str | None, launch_count: int) -> list[str]:
    cmd = [ncu, "--export", str(report), "--force-overwrite", "--profile-from-start", "off",
           "--target-processes", "application-only", "--clock-control", "none", "--cache-control", "all",
           "--metrics", ",".join(metrics),
           "--launch-count", str(launch_count)]
    if kernel_regex:
        cmd += ["--kernel-name-base", "function", "--kernel-name", f"regex:{kernel_regex}"]
    return cmd


@dataclasses.dataclass(frozen=True)
class NcuRun:
    """One run of the forward under ncu: the report as CSV, or why there is none; the child's answer."""

    result: ProfileRunAnswer
    csv: str = ""
    failure: str | None = None
    reason: str | None = None  # what ncu said went wrong, when it still wrote a report


def _run_once(ncu: str, metrics: tuple[str, ...], kernel_regex: str | None, req: ProfileRunRequest, workdir: Path, timeout_s: float) -> NcuRun:
    report = workdir / "ncu_report"
    rep_file = report.with_suffix(".ncu-rep")
    rep_file.unlink(missing_ok=True)
    result_path = Path(req.result_path)
    result_path.unlink(missing_ok=True)
    target = workdir / "ncu_target.request.json"
    req.write(target)
    launch_count = NCU_CALLS * MAX_LAUNCHES_PER_CALL + 1  # one more than we accept: a full count means cut off
    launch = workdir / "ncu_launch.request.json"
    NcuLaunchRequest(ncu_argv=ncu_command(ncu, report, metrics, kernel_regex, launch_count), target_request=str(target)).write(launch)
    # ncu's own install folder (its libraries and sections sit beside the binary).
    readable = tuple(Path(p) for p in (req.problem_path, req.solution_path, os.path.dirname(os.path.realpath(ncu))) if p)
    # The GPU's performance counters serve one profiler at a time: a second ncu at once failed with
    # "An error was reported by the driver" (two profile tests in parallel on an H100).
    with machine_lock("ncu"):
        child = run_child(["kernelwright.tools.worker.profile_ncu_launch", str(launch)], workdir, timeout_s, log_name="ncu",
                          mounts=Mounts(readable=readable), device=req.device)
    result = read_answer(PROFILE_RUN, result_path, {})
    output = child.stdout + "\n" + child.stderr
    reason = ncu_failure_reason(output)
    if child.timed_out:
        return NcuRun(result, failure=f"ncu did not finish within {timeout_s:.0f}s")
    if not result.get("ok"):
        return NcuRun(result, failure=reason or child_failure(child, result, "the profiled forward under ncu"))
    if not rep_file.exists():
        return NcuRun(result, failure=reason or "ncu wrote no report")
    imported = subprocess.run([ncu, "--import", str(rep_file), "--csv", "--print-units", "base"],
                              capture_output=True, text=True, timeout=IMPORT_TIMEOUT_S)
    if imported.returncode != 0:
        why = ncu_failure_reason(imported.stdout + imported.stderr) or f"exit code {imported.returncode}"
        return NcuRun(result, failure=f"reading the ncu report failed: {why}")
    return NcuRun(result, csv=imported.stdout, reason=reason)


def ncu_profile(ncu: str, problem_path: Path, solution_path: Path | None, solution_source: str, device: str, workdir: Path, timeout_s: float) -> TierResult:
    """{"metrics", "missing", "device_facts"} or {"failure": reason, ...}."""
    workdir.mkdir(parents=True, exist_ok=True)
    names = own_kernel_names(solution_source) if solution_path else []
    regex = "^(" + "|".join(re.escape(n) for n in names) + ")$" if names else None
    req = ProfileRunRequest(mode="ncu", problem_path=str(problem_path), solution_path=str(solution_path) if solution_path else None,
                            device=device, calls=NCU_CALLS, result_path=str(workdir / "ncu_target.result.json"))
    missing: list[str] = []
    run = _run_once(ncu, CORE_METRICS + EXTRA_METRICS, regex, req, workdir, timeout_s)
    failure = run.failure or ""
    if "metric" in failure.lower() and "ERR_NVGPUCTRPERM" not in failure:
        # Whatever this ncu says about a metric name, the verified set alone may still work.
        missing.append(f"stall reasons, L2 throughput and local-memory (spill) counts: {failure}")
        run = _run_once(ncu, CORE_METRICS, regex, req, workdir, timeout_s)
    facts = run.result.get("device_facts") or {}
    if run.failure is not None:
        return {"failure": run.failure, "device_facts": facts}
    records = parse_ncu_csv(run.csv)
    if not records:
        return {"failure": run.reason or "ncu profiled no kernels of the forward", "device_facts": facts}
    metrics = summarize_launches(records, NCU_CALLS)
    metrics["clock_control"] = "none"
    metrics["kernel_filter"] = f"regex:{regex}" if regex else "none (every kernel of the forward)"
    if solution_path and not names:
        missing.append("kernel filter: none of the solution's kernels could be named from its source; every kernel of the forward was profiled")
    if len(records) >= NCU_CALLS * MAX_LAUNCHES_PER_CALL + 1:
        metrics["duration_ms"] = None
        missing.append(f"ncu duration: the forward launches more than {MAX_LAUNCHES_PER_CALL} kernels; only the first "
                       f"{len(records)} launches were profiled, so no per-call duration is given")
    return {"metrics": metrics, "missing": missing, "device_facts": facts}
