"""`verify_solution`: the strict evaluation protocol, end to end (README: `kernelwright check`).

Parent-side orchestration only. Untrusted and user code runs in sandboxed children, started
together so that their start-up overlaps (see `kernelwright.tools.check.children`):
1. reference child: reference outputs for every case (trials x shape variants), weights, inputs;
2. candidate child: the solution under the runtime guards, outputs to disk;
3. on a GPU, timing (see `kernelwright.tools.check.timing`): the reference child times eager, the
   candidate child times the candidate; on the CPU, a static sm_90 compile of the solution's
   kernels for their register/shared-memory use.
The reference child keeps its outputs and compares the candidate's with them, on the check's
device (`output_compare`); with a run's reference cache they live in this process instead.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.tools.check.baselines import selected_compile_baselines
from kernelwright.tools.check.plan import Number, VariantPlan, plan_variants
from kernelwright.tools.check.resolved import resolve
from kernelwright.tools.check.scratch_budget import ScratchBudget
from kernelwright.tools.check.static_scan import scan_solution
from kernelwright.tools.check.tolerance import DEFAULT, Tolerances, load_tolerances
from kernelwright.tools.check.verdicts import CheckResult, Reason, Verdict
from kernelwright.tools.check.witness import own_kernel_names
from kernelwright.tools.problem import (
    InputError,
    Problem,
    cpu_size_alternatives,
    load_problem,
    load_solution,
    resized,
    sized_for_device,
)
from kernelwright.tools.sandbox.child import sandbox_for, scratch_root
from kernelwright.tools.sandbox.isolation import Isolation
from kernelwright.tools.sandbox.policy import SandboxPolicy
from kernelwright.tools.worker.reference_protocol import OutputSpec, ReferenceReport, TensorSpec


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
    precision: str | None = None  # None keeps the problem's dtypes; fp32 / fp16 / bf16 casts floats; tf32 allows TF32 dots
    sizes: str = "auto"  # on the CPU: auto (CPU_SIZES or the automatic reduction) or full (the file's sizes)
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
    # The disk and memory the trials' files may use; None: measured when the check starts.
    scratch_budget: ScratchBudget | None = None
    # The sandbox's limits and requirements (config `sandbox:`).
    sandbox: SandboxPolicy = dataclasses.field(default_factory=SandboxPolicy)
    progress: Callable[[str], None] | None = None

    def say(self, message: str) -> None:
        if self.progress:
            self.progress(message)


def plan_cases(problem: Problem, opts: CheckOptions, device: str = "cpu") -> list[VariantPlan]:
    """The variants to run, each with its trials: trial 0 seeded with --seed, the rest secret.
    `problem` is the file as shipped; on the CPU the shipped variant lists the sizes to try."""
    alternatives: list[dict[str, Number]] = [{}]
    if device == "cpu" and opts.sizes != "full":
        alternatives = cpu_size_alternatives(problem)[0] or [{}]
    return plan_variants(alternatives, seed=opts.seed, trials=5 if opts.mode == "compat" else opts.trials,
                         variant_trials=opts.variant_trials, strict=opts.mode == "strict", variants=opts.variants)


@dataclasses.dataclass
class _Children:
    """The sandboxed children of one check, started together (see `check_children`)."""

    device: str
    folder: Any  # check_children.CheckFolder
    variants: list[VariantPlan]
    reference: Any  # None when the run's cache has the outputs and nothing is timed
    candidate: Any
    started: float
    cache_key: str | None = None
    cached: Any = None  # reference_cache.CachedReference on a hit
    cache_note: str | None = None  # why a cached entry was dropped
    inbox: Any = None  # output_share.SharedInbox: the candidate's outputs, where this process compares them

    def close(self, keep_workdir: bool) -> None:
        for child in (self.candidate, self.reference):
            if child is not None:
                child.close()
        if self.inbox is not None:
            self.inbox.close()
        if not keep_workdir:
            shutil.rmtree(self.folder.root, ignore_errors=True)


def _start_children(problem: Problem, solution_path: Path, device: str, opts: CheckOptions) -> _Children:
    from kernelwright.tools.check.children import CandidateChild, CheckFolder, ReferenceChild

    timed = timed_on(device, opts)
    cache = opts.reference_cache
    key = cache.key(problem, device, opts) if cache else None

    def make() -> list[VariantPlan]:
        return plan_cases(problem, opts, device)

    variants = cache.plan(key, make) if cache else make()
    cached, note = cache.get(key) if cache else (None, None)
    folder = CheckFolder(Path(tempfile.mkdtemp(prefix="kw-check-", dir=scratch_root())), problem, solution_path,  # the file as shipped
                         shared=cached.shared if cached else None)
    started = time.monotonic()
    tolerances = {name: list(opts.tolerances.table[name]) for name in opts.tolerances.table}
    requested = [v.model_copy(update={"tolerances": tolerances}) for v in variants]  # the stress search judges fairness with them
    reference = None
    if cached is None or timed:
        if cached is not None:
            requested = [timing_only(requested[0], cached.report)]
        # A run's cache keeps the outputs in this process; a check without one compares in the worker.
        reference = ReferenceChild(problem, requested, device, opts, folder, serve=timed, outputs=cached is None,
                                   compare_here=cache is None)
    inbox = candidate = None
    try:
        worker_compares = reference is not None and reference.compare_here
        candidate = CandidateChild(device, opts, folder, serve=timed, share=bool(folder.share_path), share_device=worker_compares)  # starts up meanwhile
        if folder.share_path and not worker_compares:
            # This process compares, so it receives (after the start: the import brings torch; the
            # candidate sends nothing before its cases come, once the reference outputs are in).
            from kernelwright.tools.worker.output_share import SharedInbox

            inbox = SharedInbox(Path(folder.share_path))
    except BaseException:
        if candidate is not None:
            candidate.close()
        if reference is not None:
            reference.close()
        if inbox is not None:
            inbox.close()
        shutil.rmtree(folder.root, ignore_errors=True)
        raise
    return _Children(device, folder, variants, reference, candidate, started, key, cached, note, inbox)


def timing_only(shipped: VariantPlan, report: ReferenceReport) -> VariantPlan:
    """The shipped variant's request for a reference child that only times eager (its outputs
    are cached): at the values the cached run resolved, with the trials that ran there, so its
    model's parameters change as the candidate's did if the parameter trial ran."""
    ran = {c.id for c in report.variants[0].cases} if report.variants else set()
    return shipped.model_copy(update={"alternatives": [report.shipped_values], "cases": [c for c in shipped.cases if c.id in ran]})


def fp32_problem(report: ReferenceReport) -> bool:
    """Whether the reference computes in fp32 only (every floating input and output fp32): the
    problems the precision rule holds to IEEE fp32 (docs/integrity.md)."""
    shipped = report.variants[0]
    dtypes = {d.dtype for d in shipped.input_spec}
    dtypes |= {d.dtype for c in shipped.cases for d in _described(c.output)}
    floating = {d for d in dtypes if d and (d.startswith("float") or d.startswith("bfloat"))}
    return floating == {"float32"}


def _described(desc: OutputSpec) -> list[TensorSpec]:
    return [desc] if isinstance(desc, TensorSpec) else [d for item in desc for d in _described(item)]


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
    if opts.sizes not in ("auto", "full"):
        raise InputError(f"--sizes {opts.sizes}: expected auto or full")
    if opts.precision not in (None, "fp32", "fp16", "bf16", "tf32"):
        raise InputError(f"--precision {opts.precision}: expected fp32, fp16, bf16 or tf32")
    if opts.precision == "tf32":  # TF32 carries fp16's 10-bit mantissa: judged like a 16-bit problem
        opts = dataclasses.replace(opts, tolerances=opts.tolerances.with_fp32_as_16bit())
    selected_compile_baselines(opts)  # a bad name is the user's to fix before anything runs
    isolation, _ = sandbox_for(opts.sandbox, opts.timeout_s, gpu=opts.device != "cpu")  # refuses early if full isolation is required
    guess = _device_guess(opts.device)
    if guess:
        from kernelwright.tools.sandbox.warm import prestart

        prestart(guess, compiler=opts.static_resources)  # the workers' imports overlap the static scan's
    findings = scan_solution(solution.source) if opts.static_scan else []
    guess = None if findings else guess
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
    problem = sized_for_device(shipped_problem, device, full=opts.sizes == "full")  # replaced by the sizes the reference ran at
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
    opts.say(f"reference: {sum(len(v.cases) for v in variants)} trials on {device}")
    if children.cached is not None:
        refs, report = children.cached.refs, children.cached.report
        result.reference_cache = "hit"
    else:
        refs, report = reference.outputs()
        result.phases["reference"] = round(time.monotonic() - children.started, 3)  # from its start
        if opts.reference_cache is not None:
            opts.reference_cache.put(children.cache_key, variants, refs, report, children.folder.shared)
            result.reference_cache = f"recomputed: {children.cache_note}" if children.cache_note else "miss"
    if not timed and reference is not None and not reference.compare_here:
        reference.close()
    result.versions.update(report.device_facts)
    resized_by = cpu_size_alternatives(shipped_problem)[1] if device == "cpu" and opts.sizes != "full" else ""
    plan = resolve(report, resized_by)
    if plan.shipped_values:
        problem = resized(shipped_problem, plan.shipped_values, resized_by)
    result.variants, result.notes, result.sizes = plan.variants, plan.notes, dict(plan.shipped_values)
    if opts.precision == "tf32":
        result.notes.append("--precision tf32: fp32 matmul operands may be rounded to TF32 (10-bit mantissas); judged with the 16-bit tolerance")
    result.seeds = [c.seed for c in plan.cases]
    result.construction_seed = report.variants[0].construction_seed if report.variants else None
    cases = plan.cases
    opts.say(f"candidate: {len(cases)} guarded calls" + (" under the Triton interpreter" if device == "cpu" else ""))
    with result.phase("candidate"):
        child, events, tampered = candidate.check(plan.for_candidate)
    if tampered:
        result.verdict = Verdict.STATIC_VIOLATION
        result.reasons = [Reason("event_log", tampered, Verdict.STATIC_VIOLATION)]
        result.wall_s = time.monotonic() - start
        return result
    from kernelwright.tools.check.output_compare import OutputComparer, ParentComparer, WorkerComparer

    if reference is not None and reference.compare_here:
        comparer: OutputComparer = WorkerComparer(reference, events, candidate.out_dir, opts, share_key=candidate.key)
    else:
        comparer = ParentComparer(refs, candidate.out_dir, opts, device, children.inbox, candidate.key)
    with result.phase("compare"):
        j = judge_candidate(child, events, comparer, cases, opts, opts.timeout_s, fp32_problem(report), own_kernel_names(solution.source))
    if not timed and reference is not None:
        reference.close()
    result.verdict, result.reasons, result.trials = j.verdict, j.reasons, j.trials
    if children.cached is None:  # a cached reference's seconds were another check's
        reference_seconds = {c.id: c.seconds for v in report.variants for c in v.cases if c.seconds is not None}
        for trial in result.trials:
            if trial["case"] in reference_seconds:
                trial["seconds"] = {"reference": reference_seconds[trial["case"]], **trial["seconds"]}
    result.max_abs_err, result.rel_err, result.tolerance = j.max_abs_err, j.rel_err, j.tolerance
    if result.tolerance is not None:
        result.tolerance = {**result.tolerance, **opts.tolerances.describe()}
    result.weights_aligned, result.launches = j.weights_aligned, j.launches
    result.notes += j.notes
    if not (result.accepted and timed):
        candidate.close()  # nothing more to ask it

    shipped = report.variants[0]
    if device == "cpu" and opts.static_resources and j.signatures:
        from kernelwright.tools.resources import compile_resources

        opts.say("static: compiling the solution's kernels for sm_90")
        with result.phase("static_resources"):
            result.resources = compile_resources(children.folder.solution_path, j.signatures, children.folder.subfolder("resources"), opts.timeout_s)
        from kernelwright.tools.check.gpu_compile import gpu_compile_reason

        reason = gpu_compile_reason(result.resources, j.signatures_dropped) if result.accepted else None
        if reason is not None:
            result.verdict, result.reasons = reason.verdict, [reason, *result.reasons]
    if result.accepted and timed:
        from kernelwright.tools.check.timing import time_solution

        time_solution(problem, shipped, device, opts, children.folder, result, reference, candidate, own_kernel_names(solution.source))
    result.wall_s = time.monotonic() - start
    return result
