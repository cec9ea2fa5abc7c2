"""`verify_solution`: the strict evaluation protocol of EVAL_PROTOCOL.md, end to end.

Parent-side orchestration only. Untrusted and user code runs in sandboxed children:
1. reference worker: reference outputs for every case (trials x shape variants), weights, inputs;
2. candidate worker: the solution under the runtime guards, outputs to disk;
3. on a GPU, timing workers (see `kernelwright.tools.timing`); on the CPU, a static sm_90
   compile of the solution's kernels for their register/shared-memory use.
Reference outputs live only in this process once the reference worker is done.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.tools.devices import resolve_device, versions
from kernelwright.tools.judge import judge_candidate
from kernelwright.tools.problem import (
    InputError,
    Problem,
    load_problem,
    load_solution,
    sized_for_device,
    variant_sizes,
    with_constants,
)
from kernelwright.tools.roofline import described_nbytes
from kernelwright.tools.sandbox import run_child
from kernelwright.tools.static_scan import scan_solution
from kernelwright.tools.verdicts import CheckResult, Reason, Verdict
from kernelwright.tools.worker.common import TamperedLog, load_tensors, read_events

WORKER = "kernelwright.tools.worker"


@dataclasses.dataclass
class CheckOptions:
    device: str = "auto"
    timeout_s: float = 300.0
    seed: int = 42
    trials: int = 5
    variant_trials: int = 2
    variants: bool = True
    mode: str = "strict"  # or "compat" (KernelBench's rules)
    allow_torch_ops: bool = False
    precision: str | None = None  # None keeps the problem's dtypes; fp32 / fp16 / bf16 casts floats
    timing: bool = True
    static_resources: bool = True
    # Off only in tests that prove the runtime guards catch what the static scan would have.
    static_scan: bool = True
    home: Path | None = None
    keep_workdir: bool = False
    progress: Callable[[str], None] | None = None

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def plan_cases(problem: Problem, opts: CheckOptions) -> list[dict[str, Any]]:
    """The variants to run, each with its cases: trial 0 seeded with --seed, the rest secret."""
    trials = 5 if opts.mode == "compat" else max(opts.trials, 1)
    seeds = [opts.seed] + [secrets.randbelow(2**31 - 1) for _ in range(trials - 1)]
    variants = [
        {
            "name": "shipped",
            "constants": dict(problem.resized),  # the CPU_SIZES applied, if any
            "source": problem.file.source,
            "cases": [{"id": f"shipped-{i}", "seed": s} for i, s in enumerate(seeds)],
        }
    ]
    sizes = variant_sizes(problem.constants)
    if opts.variants and opts.mode == "strict" and sizes:
        variants.append(
            {
                "name": "variant1",
                "constants": sizes,
                "source": with_constants(problem.file.source, sizes),
                "cases": [
                    {"id": f"variant1-{i}", "seed": secrets.randbelow(2**31 - 1)}
                    for i in range(max(opts.variant_trials, 1))
                ],
            }
        )
    return variants


def _write_request(workdir: Path, name: str, req: dict[str, Any]) -> str:
    path = workdir / f"{name}.request.json"
    path.write_text(json.dumps(req))
    return str(path)


def run_reference(problem: Problem, variants: list[dict[str, Any]], device: str, opts: CheckOptions, workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Reference outputs (moved into this process, then deleted from disk) and the worker's report."""
    shared, private = workdir / "shared", workdir / "private"
    shared.mkdir(), private.mkdir()
    result_path = workdir / "reference.result.json"
    req = {
        "problem_path": str(problem.path),
        "variants": variants,
        "device": device,
        "precision": opts.precision,
        "shared_dir": str(shared),
        "private_dir": str(private),
        "result_path": str(result_path),
    }
    child = run_child([WORKER, "reference", _write_request(workdir, "reference", req)], workdir, opts.timeout_s, log_name="reference")
    if not result_path.exists():
        why = "timed out" if child.timed_out else (child.signal_name or child.stderr.strip().splitlines()[-1:] or ["no output"])
        raise InputError(f"problem file {problem.path}: the reference failed to run ({why}); fix the problem file")
    report = json.loads(result_path.read_text())
    if not report["ok"]:
        last = report["error"].strip().splitlines()[-1]
        raise InputError(f"problem file {problem.path}: the reference itself fails to run: {last}")
    refs = {p.stem.removeprefix("ref_"): load_tensors(p) for p in private.glob("ref_*.pt")}
    shutil.rmtree(private)
    return refs, report


def run_candidate(solution_path: Path, variants: list[dict[str, Any]], device: str, opts: CheckOptions, workdir: Path):
    out_dir, events_path = workdir / "out", workdir / "candidate.events.jsonl"
    out_dir.mkdir()
    req = {
        "solution_path": str(solution_path),
        "variants": variants,
        "device": device,
        "precision": opts.precision,
        "shared_dir": str(workdir / "shared"),
        "out_dir": str(out_dir),
        "events_path": str(events_path),
        "poison": True,
    }
    env = {"TRITON_INTERPRET": "1"} if device == "cpu" else {}
    key = secrets.token_bytes(32)
    child = run_child([WORKER, "candidate", _write_request(workdir, "candidate", req)], workdir, opts.timeout_s, env,
                      log_name="candidate", stdin_data=key)
    try:
        return child, read_events(events_path, key), out_dir, None
    except TamperedLog as exc:
        return child, [], out_dir, f"the candidate's process wrote into the checker's event log ({exc})"


def verify_solution(problem_path: str | Path, solution_path: str | Path, opts: CheckOptions | None = None) -> CheckResult:
    """Judge one solution file against one problem file. Raises InputError for bad input only."""
    opts = opts or CheckOptions()
    start = time.monotonic()
    problem = load_problem(problem_path)
    solution = load_solution(solution_path)
    if opts.mode not in ("strict", "compat"):
        raise InputError(f"--mode {opts.mode}: expected strict or compat")
    device = resolve_device(opts.device)
    problem = sized_for_device(problem, device)  # CPU_SIZES on the CPU (examples/problems/README.md)
    if device == "cpu" and "load_inline" in solution.source:
        raise InputError(f"solution file {solution.path} builds CUDA C++ (load_inline): that needs a CUDA GPU (--device cuda)")
    result = CheckResult(
        verdict=Verdict.ACCEPTED,
        mode=opts.mode,
        device=device,
        problem=str(problem.path),
        solution=str(solution.path),
        versions=versions(),
    )
    findings = scan_solution(solution.source) if opts.static_scan else []
    if findings:
        result.verdict = findings[0].verdict
        result.reasons = [Reason("static_scan", f"{solution.path.name}:{f.line}: {f.message}", f.verdict) for f in findings]
        result.wall_s = time.monotonic() - start
        return result

    workdir = Path(tempfile.mkdtemp(prefix="kw-check-"))
    if opts.keep_workdir:
        opts.say(f"sandbox files kept in {workdir}")
    try:
        variants = plan_cases(problem, opts)
        opts.say(f"reference: {sum(len(v['cases']) for v in variants)} cases on {device}")
        with result.phase("reference"):
            refs, report = run_reference(problem, variants, device, opts, workdir)
        result.versions.update(report.get("device_facts", {}))
        ran = {v["name"] for v in report["variants"]}
        variants = [v for v in variants if v["name"] in ran]
        by_case = {c["id"]: c for info in report["variants"] for c in info["cases"]}
        for v in variants:
            for c in v["cases"]:
                c["output_nbytes"] = described_nbytes(by_case[c["id"]]["output"])
        result.variants = [
            {"name": v["name"], "constants": v["constants"], "cases": len(v["cases"])} for v in variants
        ] + [{"name": s["name"], "skipped": s["error"].strip().splitlines()[-1]} for s in report["skipped_variants"]]
        result.seeds = [c["seed"] for v in variants for c in v["cases"]]
        cases = [{**c, "variant": v["name"], "constants": v["constants"]} for v in variants for c in v["cases"]]

        opts.say(f"candidate: {len(cases)} guarded calls" + (" under the Triton interpreter" if device == "cpu" else ""))
        with result.phase("candidate"):
            child, events, out_dir, tampered = run_candidate(solution.path, variants, device, opts, workdir)
        if tampered:
            result.verdict = Verdict.STATIC_VIOLATION
            result.reasons = [Reason("event_log", tampered, Verdict.STATIC_VIOLATION)]
            result.wall_s = time.monotonic() - start
            return result
        with result.phase("compare"):
            j = judge_candidate(child, events, refs, cases, out_dir, opts, device, opts.timeout_s)
        result.verdict, result.reasons, result.trials = j.verdict, j.reasons, j.trials
        result.max_abs_err, result.rel_err, result.tolerance = j.max_abs_err, j.rel_err, j.tolerance
        result.weights_aligned, result.launches = j.weights_aligned, j.launches

        shipped = report["variants"][0]
        if device == "cpu" and opts.static_resources and j.signatures:
            from kernelwright.tools.resources import compile_resources

            opts.say("static: compiling the solution's kernels for sm_90")
            with result.phase("static_resources"):
                result.resources = compile_resources(solution.path, j.signatures, workdir, opts.timeout_s)
        if result.accepted and device.startswith("cuda") and opts.timing:
            from kernelwright.tools.timing import time_solution

            time_solution(problem, solution.path, shipped, device, opts, workdir, result)
    finally:
        if not opts.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    result.wall_s = time.monotonic() - start
    return result
