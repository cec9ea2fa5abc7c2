"""`verify_solution`: the strict evaluation protocol, end to end (README: `kernelwright check`).

Parent-side orchestration only. Untrusted and user code runs in sandboxed children, started
together so that their start-up overlaps (see `kernelwright.tools.check.children`):
1. reference child: reference outputs for every case (trials x shape variants), weights, inputs;
2. candidate child: the solution under the runtime guards, outputs to disk;
3. on a GPU, timing (see `kernelwright.tools.check.timing`): the reference child times eager, the
   candidate child times the candidate; on the CPU, a static sm_90 compile of the solution's
   kernels for their register/shared-memory use.
Reference outputs live only in this process once the reference child has written them.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.tools.check.baselines import selected_compile_baselines
from kernelwright.tools.check.static_scan import scan_solution
from kernelwright.tools.check.tolerance import DEFAULT, Tolerances, load_tolerances
from kernelwright.tools.check.verdicts import CheckResult, Reason, Verdict
from kernelwright.tools.problem import (
    InputError,
    Problem,
    load_problem,
    load_solution,
    sized_for_device,
    variant_sizes,
    with_constants,
)
from kernelwright.tools.profile.roofline import described_nbytes
from kernelwright.tools.sandbox.child import sandbox_for, scratch_root
from kernelwright.tools.sandbox.isolation import Isolation
from kernelwright.tools.sandbox.policy import SandboxPolicy


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
    # torch.compile baselines to time on a GPU (eager is always timed: it brackets the candidate
    # for the noise floor); a skipped one is reported as null with the reason.
    compile_baselines: tuple[str, ...] = ("compile", "compile_max_autotune")
    home: Path | None = None
    # From the problem's reviewed sidecar (NAME.tolerance.json), set by `verify_solution`.
    tolerances: Tolerances = DEFAULT
    keep_workdir: bool = False
    # One run's reference outputs, reused by every candidate of the run (see reference_cache).
    reference_cache: Any = None
    # The sandbox's limits and requirements (config `sandbox:`).
    sandbox: SandboxPolicy = dataclasses.field(default_factory=SandboxPolicy)
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


@dataclasses.dataclass
class _Children:
    """The sandboxed children of one check, started together (see `check_children`)."""

    device: str
    folder: Any  # check_children.CheckFolder
    variants: list[dict[str, Any]]
    reference: Any  # None when the run's cache has the outputs and nothing is timed
    candidate: Any
    started: float
    cache_key: str | None = None
    cached: Any = None  # reference_cache.CachedReference on a hit
    cache_note: str | None = None  # why a cached entry was dropped

    def close(self, keep_workdir: bool) -> None:
        for child in (self.candidate, self.reference):
            if child is not None:
                child.close()
        if not keep_workdir:
            shutil.rmtree(self.folder.root, ignore_errors=True)


def _start_children(problem: Problem, solution_path: Path, device: str, opts: CheckOptions) -> _Children:
    from kernelwright.tools.check.children import CandidateChild, CheckFolder, ReferenceChild

    problem = sized_for_device(problem, device)
    timed = timed_on(device, opts)
    cache = opts.reference_cache
    key = cache.key(problem, device, opts) if cache else None
    variants = cache.plan(key, lambda: plan_cases(problem, opts)) if cache else plan_cases(problem, opts)
    cached, note = cache.get(key) if cache else (None, None)
    folder = CheckFolder(Path(tempfile.mkdtemp(prefix="kw-check-", dir=scratch_root())), problem, solution_path,
                         shared=cached.shared if cached else None)
    started = time.monotonic()
    reference = None
    if cached is None or timed:
        reference = ReferenceChild(problem, variants, device, opts, folder, serve=timed, outputs=cached is None)
    try:
        candidate = CandidateChild(device, opts, folder, serve=timed)  # starts up meanwhile
    except BaseException:
        if reference is not None:
            reference.close()
        shutil.rmtree(folder.root, ignore_errors=True)
        raise
    return _Children(device, folder, variants, reference, candidate, started, key, cached, note)


def timed_on(device: str, opts: CheckOptions) -> bool:
    """Whether a check on `device` is timed: on CUDA devices, unless --no-timing."""
    return device.startswith("cuda") and opts.timing


def _device_guess(requested: str) -> str | None:
    """The device `resolve_device` will most likely name, known without importing torch, so the
    children can start while this process imports it; None when only torch can tell."""
    if requested == "cpu":
        return "cpu"
    gpu_nodes = Path("/dev/nvidiactl").exists()
    if requested == "auto":
        return "cuda:0" if gpu_nodes else "cpu"
    if requested == "cuda" and gpu_nodes:
        return "cuda:0"
    if requested.startswith("cuda:") and requested[5:].isdigit() and gpu_nodes:
        return f"cuda:{int(requested[5:])}"
    return None


def verify_solution(problem_path: str | Path, solution_path: str | Path, opts: CheckOptions | None = None) -> CheckResult:
    """Judge one solution file against one problem file. Raises InputError for bad input only."""
    opts = opts or CheckOptions()
    start = time.monotonic()
    problem = load_problem(problem_path)
    opts = dataclasses.replace(opts, tolerances=load_tolerances(problem.path))
    solution = load_solution(solution_path)
    if opts.mode not in ("strict", "compat"):
        raise InputError(f"--mode {opts.mode}: expected strict or compat")
    selected_compile_baselines(opts)  # a bad name is the user's to fix before anything runs
    isolation, _ = sandbox_for(opts.sandbox, opts.timeout_s, gpu=opts.device != "cpu")  # refuses early if full isolation is required
    findings = scan_solution(solution.source) if opts.static_scan else []
    guess = None if findings else _device_guess(opts.device)
    started = [_start_children(problem, solution.path, guess, opts)] if guess else []
    try:
        return _verify(problem, solution, opts, findings, started, start, isolation)
    finally:
        for children in started:
            children.close(opts.keep_workdir)


def _verify(shipped_problem: Problem, solution: Any, opts: CheckOptions, findings: list, started: list[_Children], start: float,
            isolation: Isolation) -> CheckResult:
    from kernelwright.tools.check.judge import judge_candidate
    from kernelwright.tools.devices import resolve_device, versions

    device = resolve_device(opts.device)  # imports torch (while the children start up)
    problem = sized_for_device(shipped_problem, device)  # CPU_SIZES on the CPU (examples/problems/README.md)
    if device == "cpu" and "load_inline" in solution.source:
        raise InputError(f"solution file {solution.path} builds CUDA C++ (load_inline): that needs a CUDA GPU (--device cuda)")
    result = CheckResult(
        verdict=Verdict.ACCEPTED,
        mode=opts.mode,
        device=device,
        problem=str(problem.path),
        solution=str(solution.path),
        versions=versions(),
        isolation=isolation.to_dict(),
    )
    if findings:
        result.verdict = findings[0].verdict
        result.reasons = [Reason("static_scan", f"{solution.path.name}:{f.line}: {f.message}", f.verdict) for f in findings]
        result.wall_s = time.monotonic() - start
        return result
    if not started or started[-1].device != device:  # guessed wrong (or could not guess): start them now
        if started:
            started[-1].close(keep_workdir=False)
        started.append(_start_children(shipped_problem, solution.path, device, opts))
    children = started[-1]
    timed = timed_on(device, opts)
    reference, candidate, variants = children.reference, children.candidate, children.variants
    result.isolation = candidate.isolation.to_dict()
    if opts.keep_workdir:
        opts.say(f"sandbox files kept in {children.folder.root}")
    opts.say(f"reference: {sum(len(v['cases']) for v in variants)} cases on {device}")
    if children.cached is not None:
        refs, report = children.cached.refs, children.cached.report
        result.reference_cache = "hit"
    else:
        refs, report = reference.outputs()
        result.phases["reference"] = round(time.monotonic() - children.started, 3)  # from its start
        if opts.reference_cache is not None:
            opts.reference_cache.put(children.cache_key, variants, refs, report, children.folder.shared)
            result.reference_cache = f"recomputed: {children.cache_note}" if children.cache_note else "miss"
    if not timed and reference is not None:
        reference.close()
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
        child, events, tampered = candidate.check(variants)
    if tampered:
        result.verdict = Verdict.STATIC_VIOLATION
        result.reasons = [Reason("event_log", tampered, Verdict.STATIC_VIOLATION)]
        result.wall_s = time.monotonic() - start
        return result
    with result.phase("compare"):
        j = judge_candidate(child, events, refs, cases, candidate.out_dir, opts, device, opts.timeout_s)
    result.verdict, result.reasons, result.trials = j.verdict, j.reasons, j.trials
    result.max_abs_err, result.rel_err, result.tolerance = j.max_abs_err, j.rel_err, j.tolerance
    if result.tolerance is not None:
        result.tolerance = {**result.tolerance, **opts.tolerances.describe()}
    result.weights_aligned, result.launches = j.weights_aligned, j.launches
    if not (result.accepted and timed):
        candidate.close()  # nothing more to ask it

    shipped = report["variants"][0]
    if device == "cpu" and opts.static_resources and j.signatures:
        from kernelwright.tools.resources import compile_resources

        opts.say("static: compiling the solution's kernels for sm_90")
        with result.phase("static_resources"):
            result.resources = compile_resources(children.folder.solution_path, j.signatures, children.folder.subfolder("resources"), opts.timeout_s)
    if result.accepted and timed:
        from kernelwright.tools.check.timing import time_solution

        time_solution(problem, shipped, device, opts, children.folder, result, reference, candidate)
    result.wall_s = time.monotonic() - start
    return result
