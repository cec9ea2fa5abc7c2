"""Child worker: load the candidate solution and run it on every case, under the runtime guards.

Never sees reference outputs: it makes each trial's inputs from the reference's recipe
(`candidate_inputs`), reads the constructor arguments and weights the reference worker saved,
writes the candidate's outputs, and logs one JSON event per step so
that a crash or a kill leaves a record of how far it got. The parent compares the outputs.
It starts before the reference is done (`prewarm`) and waits for its key and cases on stdin.
On a GPU, once the parent accepted the outputs, it times the candidate in this same process
(`candidate_timing`), with the guards still installed.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import torch

from kernelwright.tools.check import guards, op_accounting
from kernelwright.tools.check.audit import CandidateAudit, Refusal
from kernelwright.tools.check.code_origin import CodeOrigins
from kernelwright.tools.check.env_view import restrict_environment
from kernelwright.tools.check.init_accounting import InitAccountant
from kernelwright.tools.check.poison import PoisonPattern
from kernelwright.tools.worker import device_share
from kernelwright.tools.worker.candidate_errors import classify_exception
from kernelwright.tools.worker.candidate_inputs import (
    case_inputs,
    seal_broken,
    seal_worker_names,
    sealed_problem,
)
from kernelwright.tools.worker.candidate_protocol import (
    CandidateCase,
    CandidateRequest,
    CandidateVariant,
    CheckCommand,
    TimeCandidateCommand,
    read_command,
)
from kernelwright.tools.worker.candidate_reports import WeightAlignment
from kernelwright.tools.worker.candidate_setup import hide_checker_modules, prewarm
from kernelwright.tools.worker.common import (
    DTYPES,
    Commands,
    EventLog,
    clone_inputs,
    device_sync,
    error_text,
    load_module,
    load_tensors,
    seed_everything,
)
from kernelwright.tools.worker.kernel_profile import KernelWitness
from kernelwright.tools.worker.output_capture import (
    attributes_set,
    collected,
    freeze_worker_objects,
    output_description,
    same_bits,
    shares_memory,
    tensors_of,
)
from kernelwright.tools.worker.output_share import hand_over
from kernelwright.tools.worker.trials import SubclassedTensor, change_parameters, refuse_subclassed_tensors

if TYPE_CHECKING:  # imported where the interpreter is in use, not before
    from kernelwright.tools.worker.interpreter_fidelity import NumericsNote

_equal = torch.equal  # captured before the candidate is imported
_rng = random.SystemRandom()  # the checker's own choices (poison, grad mode): not torch's RNG
_clock = time.perf_counter  # the checker's clock for the trials' own seconds (informational, no verdict reads it)
# The modes a checked call runs in. Each occurs among each variant's calls (where it has as many),
# in a random order, so a forward that behaves differently in one of them is seen in all (the
# timed calls use the first). Grad enabled: how a user calls a module outside inference.
GRAD_MODES = {"inference_mode": torch.inference_mode, "no_grad": torch.no_grad, "enable_grad": torch.enable_grad}


def build_model(module, req: CandidateRequest, variant: CandidateVariant, shared: Path, log: EventLog,
                launches: guards.LaunchCounter) -> tuple[Any, bool]:
    """ModelNew constructed, given the reference's weights, moved to the device and put in eval
    mode. Every step of it calls into the solution's class (its __init__, a load_state_dict hook,
    an overridden `to`, `eval` or `train`): all under the init accountant and with the collector
    on (`output_capture.collected`), so compute on the parameters or buffers there, and any launch
    of the solution's kernels, is seen (red team pass 8 built an answer table in `eval`). Returns
    the model and whether what was seen there decides the verdict already."""
    device = torch.device(req.device)
    dtype = DTYPES.get(req.precision or "")
    name = variant.name
    init_inputs = load_tensors(shared / f"init_{name}.pt")
    seed_everything(variant.construction_seed)  # Model's, secret: the solution cannot replay the draws
    state_before, starts_before, launched = guards.global_state_snapshot(), guards.ThreadStarts.count, launches.own_total
    accountant = InitAccountant()  # compute on parameters or buffers, in __init__ or any step after it
    launches.refusing = True
    try:
        with accountant, collected():
            model = module.ModelNew(*init_inputs)
        refuse_subclassed_tensors(model)  # before the checker's first operation on its tensors
        state_changes = guards.diff_state(state_before, guards.global_state_snapshot())
        new_threads = guards.ThreadStarts.count - starts_before
        with accountant, collected():
            alignment = align_weights(model, load_tensors(shared / f"weights_{name}.pt"), req.mode)
            model = model.to(device=device, dtype=dtype) if dtype else model.to(device)
            model.eval()
    finally:
        launches.refusing = False
    init_compute, init_launches = accountant.compute_on(model), launches.own_total - launched
    log.write(event="constructed", variant=name, init_compute=init_compute, init_launches=init_launches,
              state_changes=state_changes, new_threads=new_threads)
    log.write(event="weights", variant=name, **alignment)
    # What the judge rejects on this event alone ends the run here: the cases would only cost time.
    decided = bool(state_changes or new_threads or init_launches or (init_compute and req.stop_on_torch_compute))
    return model, decided


def align_weights(model, reference_weights: dict[str, torch.Tensor], mode: str) -> WeightAlignment:
    """Strict: copy the reference's weights into ModelNew where names and shapes match (what is
    left keeps ModelNew's own construction under the same secret seed as Model). Compat: KernelBench's rule, both
    models built under the same seed and nothing copied. What matched, for the report."""
    own = model.state_dict()
    matched = {k: v for k, v in reference_weights.items() if k in own and own[k].shape == v.shape}
    if matched and mode == "strict":
        model.load_state_dict(matched, strict=False)
    shapes = {k: [list(reference_weights[k].shape), list(own[k].shape)] for k in reference_weights if k in own and k not in matched}
    return {
        "aligned": len(matched) == len(reference_weights) and len(matched) == len(own),
        "copied": mode == "strict",
        "matched": sorted(matched),
        "shape_mismatch": shapes,
        "reference_only": sorted(set(reference_weights) - set(matched) - set(shapes)),
        "candidate_only": sorted(set(own) - set(matched) - set(shapes)),
    }


def both_ways(n: int, choices: list[Any]) -> list[Any]:
    """`n` picks among `choices` in a random order, every choice present when n allows."""
    picks = [choices[i % len(choices)] for i in range(n)] if n >= len(choices) else [_rng.choice(choices) for _ in range(n)]
    _rng.shuffle(picks)
    return picks


def run_case(model, case: CandidateCase, req: CandidateRequest, launches: guards.LaunchCounter, log: EventLog, grad_mode: str = "inference_mode",
             finite_poison: bool | None = None, problem: Any = None) -> bool:
    """One guarded forward call. Returns False if the run must stop (an exception, or a forward that
    computed with torch when the request says that decides the check)."""
    device = torch.device(req.device)
    left_active = guards.active_modes()  # entered after the last snapshot (a finaliser between calls)
    began = _clock()
    broken = seal_broken()
    if broken:  # checked before the inputs are made through these names, whenever they changed
        log.write(event="error", case=case.id, kind="global_state", error=broken)
        return False
    originals = case_inputs(case, req, problem)
    if isinstance(originals, str):
        log.write(event="error", case=case.id, kind="runtime_error", error=originals)
        return False
    call_inputs = clone_inputs(originals)
    made = _clock()
    pattern = PoisonPattern.drawn(_rng, finite_poison) if req.poison else None
    guards.poison_allocator(2 * case.output_nbytes, device, pattern)
    own_before = sum(launches.own.values())
    state_before, rng_before, threads_before = guards.global_state_snapshot(), guards.rng_snapshot(), guards.live_threads()
    starts_before = guards.ThreadStarts.count
    accountant = guards.OpAccountant(poison=pattern, inputs=tuple(call_inputs))
    witness = KernelWitness(device)  # on a GPU: the profiler's list of what ran, for the parent
    log.write(event="call", case=case.id)
    try:
        with witness:
            with GRAD_MODES[grad_mode](), accountant:
                with collected():
                    _retired.clear()  # the output of two calls before: any finaliser of its runs here, accounted
                    out = model(*call_inputs)
                # Still inside the accounting, before the exits of the accountant and the grad mode
                # run (Python methods of classes the candidate could have changed): the seal.
                broken = seal_broken()
            device_sync(device)
    except BaseException as exc:  # noqa: BLE001 - the candidate's failure is data
        log.write(event="error", case=case.id, kind=classify_exception(exc), error=error_text(exc))
        return False
    finally:
        reentered = op_accounting.retire(accountant)
    called = _clock()
    # Again, before any step of the checker's looks a name up: a hook the forward left in a sealed
    # namespace that would undo itself once one of those steps called it (red team passes 12-14).
    broken = broken or seal_broken()
    if broken:
        log.write(event="error", case=case.id, kind="global_state", error=broken)
        return False
    state_after_call = guards.global_state_snapshot()
    # Nothing of the candidate's may run from here on (`output_capture`): no method is looked up
    # on a tensor that carries its own attributes.
    shadowed = attributes_set(out, "the output") or attributes_set(call_inputs, "the inputs")
    if shadowed:
        log.write(event="error", case=case.id, kind="static_violation",
                  error=f"{shadowed}: the forward set attributes on a tensor it returned or received (they shadow the tensor's methods "
                        "for whoever calls them after the call); return plain tensors")
        return False
    if shares_memory(out, tensors_of(_held[0]) if _held else []):
        log.write(event="error", case=case.id, kind="static_violation",
                  error="the output shares memory with the output of the call before: what a caller kept is overwritten by the next "
                        "call; return a fresh tensor from every call")
        return False
    # Nothing of the candidate's is dropped here: the output before moves to `_retired` (dropped in
    # the next accounted call), this one is held whole until the next call (so no allocator reuses
    # its memory meanwhile), and no finaliser tied to either runs outside an accounted call (red
    # team pass 10 fixed an output from a __del__ run where the output before was dropped).
    _retired[:] = _held
    _held[:] = [out]
    saved, on_device = hand_over(req.share_path, f"{req.out_dir}/out_{case.id}.pt", case.id, log.share_mac, out, device_share.loaded())
    state_after_save = guards.global_state_snapshot()
    log.write(
        event="result",
        # Where a trial's time went (at KernelBench's sizes the inputs and the output's file cost more than the call).
        seconds={"inputs": round(made - began, 3), "call": round(called - made, 3), "save": round(_clock() - called, 3)},
        case=case.id,
        output_digest=saved,  # the parent reads the file only if it still holds these bytes
        shared=on_device >= 0,  # or it went to the comparer as a sealed memory file (no file)
        on_device=max(on_device, 0),  # of its tensors, those that went as device allocations
        output=output_description(out),
        own_launches=sum(launches.own.values()) - own_before,
        compute_ops=dict(accountant.compute_ops),
        host_ops=dict(accountant.host_ops),
        moved_bytes=accountant.moved_bytes,
        poison=pattern.to_json() if pattern else None,
        grad_mode=grad_mode,
        gpu_kernels=witness.names,
        state_changes=[f"active torch modes: {left_active} before the call, outside the checker's accounting"] * bool(left_active)
        + [f"the checker's accountant: left and entered again {reentered} time(s) during the call"] * bool(reentered)
        + guards.diff_state(state_before, state_after_call)
        + [f"while the checker saved the output: {change}" for change in guards.diff_state(state_after_call, state_after_save)],
        rng_changed=not _equal(rng_before, guards.rng_snapshot()),
        new_threads=max(len(guards.live_threads() - threads_before), guards.ThreadStarts.count - starts_before),
        mutated_inputs=[i for i, (a, b) in enumerate(zip(originals, call_inputs)) if not same_bits(a, b, _equal)],
        numerics=interpreted_numerics(),
    )
    # A case that computed with torch or on the host already decides the verdict (the parent judges
    # cases in order and stops at the first failing one): the remaining cases would only cost time.
    return not (req.stop_on_torch_compute and (accountant.compute_ops or accountant.host_ops))


def interpreted_numerics() -> list[NumericsNote]:
    """The precision each of the call's interpreted kernels computed with (tl.dot operands,
    accumulators, downcasts of fp32): what the judge's precision rule reads. [] on a GPU."""
    return _fidelity[0].drain_numerics() if _fidelity else []


def _release_checked_outputs() -> None:
    """Drop the last checked calls' outputs (inside the timing phase's accountant): at KernelBench's
    sizes they are two 6.4 GB tensors, and an H100's timing phase ran out of memory beside them."""
    _held.clear()
    _retired.clear()


_held: list[Any] = []  # the last call's output as returned, containers and all (`output_capture.shares_memory`)
_retired: list[Any] = []  # the one before: cleared inside the next accounted call
_models: list[Any] = []  # every ModelNew built: none is dropped (its finaliser run) between calls
_audit: list[CandidateAudit] = []  # the installed audit (its origins trust the problem's file)
# The interpreter-fidelity module once installed, held here: `hide_checker_modules` takes it out
# of sys.modules before the candidate runs, so a lookup there would find nothing.
_fidelity: list[Any] = []


def check_cases(module, variants: tuple[CandidateVariant, ...], req: CandidateRequest, launches: guards.LaunchCounter, log: EventLog):
    """Every case of every variant, under the guards. The shipped variant's model, or None if the
    run had to stop (an error event says why)."""
    shared, shipped = Path(req.shared_dir), None
    for variant in variants:
        # Within each variant, so a cheat keyed on either is caught by the shipped cases already
        # (and named for what it is, not as a shape overfit).
        n = len(variant.cases)
        plan = iter(zip(both_ways(n, list(GRAD_MODES)), both_ways(n, [False, True])))
        try:
            model, decided = build_model(module, req, variant, shared, log, launches)
            _models.append(model)
        except BaseException as exc:  # noqa: BLE001
            log.write(event="error", stage="init", variant=variant.name, kind=classify_exception(exc), error=error_text(exc))
            return None
        if decided:
            return None
        problem = variant_problem(variant, req)
        for case in variant.cases:
            if case.kind == "params":  # the parameters change in place, as the reference's did
                try:
                    refuse_subclassed_tensors(model)  # one put there by a call before
                except SubclassedTensor as exc:
                    log.write(event="error", case=case.id, kind="static_violation", error=error_text(exc))
                    return None
                change_parameters(model, *(variant.transform or ()))
            if not run_case(model, case, req, launches, log, *next(plan), problem=problem):
                return None
        if variant.name == "shipped":
            shipped = model
    return shipped


def variant_problem(variant: CandidateVariant, req: CandidateRequest) -> Any:
    """The problem's module at the variant's values, where a trial's inputs are made here (the
    problem is the user's code, not the candidate's: trusted like the timing's get_inputs)."""
    if not any(c.inputs for c in variant.cases):
        return None
    _audit[0].origins.trust(req.problem_path)
    return sealed_problem(f"kw_problem_{variant.name}", req.problem_path, variant.problem_source or None)


def install_guards(req: CandidateRequest) -> tuple[guards.LaunchCounter, CandidateAudit]:
    """Everything installed before the candidate's code can run (see the module docstring)."""
    launches = guards.LaunchCounter(Path(req.solution_path))
    launches.install()
    if launches.interpreting:
        guards.InterpretedAutotune().install()
        # What the GPU would compute (TF32 dots, 16-bit dots, libdevice, programs that run at
        # once), before the solution can bind any of it (`interpreter_fidelity`).
        from kernelwright.tools.worker import interpreter_fidelity

        interpreter_fidelity.install()
        _fidelity[:] = [interpreter_fidelity]
    guards.ExtensionCounter(launches).install()
    guards.ThreadStarts.install()
    op_accounting.note_triton()
    op_accounting.install_host_watch()
    origins = CodeOrigins(req.solution_path)
    restrict_environment(origins)
    guards.OperatorRegistrations.install(origins)
    guards.DispatchBypass.install(origins, op_accounting.unexpected_pop)
    audit = CandidateAudit(origins, native_code=not launches.interpreting)
    audit.install()
    _audit[:] = [audit]
    seal_worker_names()  # last: the names as the checker left them, its own wrappers included
    return launches, audit


def main(request_text: str) -> int:
    req = CandidateRequest.from_json(request_text)
    prewarm(req.device)
    if req.share_device:  # the driver's entry points resolved before the candidate's code is imported
        device_share.load(torch.device(req.device))
    launches, audit = install_guards(req)
    if req.serve:
        # Imported now, before the candidate: what the timing code captures (torch.equal, CUDA
        # events, the clock) is torch's own, whatever the candidate replaces later.
        from kernelwright.tools.worker import candidate_timing
    # The parent sends the event-log key and the cases only once the reference outputs are off the disk.
    commands = Commands(sys.stdin.buffer)
    text = None if commands.closed else commands.next()
    go = read_command(text) if text is not None else None
    if not isinstance(go, CheckCommand):
        return 0
    log = EventLog(Path(req.events_path), commands.key)
    state0, threads0, starts0 = guards.global_state_snapshot(), guards.live_threads(), guards.ThreadStarts.count
    log.write(event="start", pid=os.getpid(), interpret=launches.interpreting)

    def report(refusal: Refusal) -> None:
        with contextlib.suppress(Exception):  # the exit that follows is the verdict either way
            log.write(event="refused", audit_event=refusal.event, message=refusal.message)

    hide_checker_modules()
    # `runtime_audit: false` only in tests that prove the OS sandbox stops what the audit would.
    if req.runtime_audit:
        audit.arm(report)
    freeze_worker_objects()  # the collector runs inside accounted calls only, from here on
    try:
        module = load_module("kw_solution", req.solution_path)
    except BaseException as exc:  # noqa: BLE001
        kind = "compile_error" if isinstance(exc, (SyntaxError, ImportError)) else classify_exception(exc)
        log.write(event="error", stage="load", kind=kind, error=error_text(exc))
        return 0
    log.write(
        event="loaded",
        state_changes=guards.diff_state(state0, guards.global_state_snapshot()),
        new_threads=max(len(guards.live_threads() - threads0), guards.ThreadStarts.count - starts0),
    )
    model = check_cases(module, go.variants, req, launches, log)
    if model is None:
        return 0
    log.write(event="done", own=dict(launches.own), other=dict(launches.other), signatures=list(launches.signatures.values()),
              signatures_dropped=launches.signatures_dropped)
    text = commands.next() if req.serve else None
    command = read_command(text) if text is not None else None
    if isinstance(command, TimeCandidateCommand):
        audit.origins.trust(command.problem_path)  # the problem's get_inputs runs in here
        candidate_timing.time_candidate(model, command, req, launches, log, release=_release_checked_outputs)
    _end_here()  # `model` is still referenced by this frame: it is never freed


def _end_here() -> NoReturn:
    """End the process after the last report without running any of the candidate's code again:
    no finaliser, exit handler or atexit function. Returning from `main` would free the model, and
    its `__del__` would run while the parent reads the outputs it saved (a rewrite or an erasure
    racing the re-check: the verdict would depend on which came first)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
