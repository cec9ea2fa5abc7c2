"""Turning the candidate worker's event log into a verdict (parent side).

Each case is judged by the guards in a fixed order — the first that fails names the verdict,
and every failure is kept as a reason — so that one cheat gets one stable verdict.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from kernelwright.tools.check.audit import AUDIT_EXIT
from kernelwright.tools.check.compare import Comparison
from kernelwright.tools.check.output_compare import OutputComparer
from kernelwright.tools.check.plan import CaseDescription
from kernelwright.tools.check.verdicts import Reason, TrialResult, Verdict
from kernelwright.tools.check.witness import describe, judge_kernels
from kernelwright.tools.problem import CheckerFailure
from kernelwright.tools.sandbox.child import ChildResult
from kernelwright.tools.worker.common import RewrittenFile
from kernelwright.tools.worker.events import (
    CallEvent,
    CandidateEvent,
    ConstructedEvent,
    DoneEvent,
    ErrorEvent,
    KernelSignature,
    LoadedEvent,
    NumericsRecord,
    RefusedEvent,
    ResultEvent,
    WeightsEvent,
)


@dataclasses.dataclass
class Judgement:
    verdict: Verdict
    reasons: list[Reason] = dataclasses.field(default_factory=list)
    trials: list[TrialResult] = dataclasses.field(default_factory=list)
    max_abs_err: float | None = None
    rel_err: float | None = None
    tolerance: dict[str, float] | None = None
    weights_aligned: bool | None = None
    launches: dict[str, int] = dataclasses.field(default_factory=dict)
    signatures: list[KernelSignature] = dataclasses.field(default_factory=list)
    signatures_dropped: int = 0
    notes: list[str] = dataclasses.field(default_factory=list)


def _needs_gpu_text(error: str) -> str:
    """The checker's own words from a NeedsGpu deep in a traceback."""
    for marker in ("NeedsGpu('", 'NeedsGpu("', "NeedsGpu: "):
        if marker in error:
            rest = error.split(marker, 1)[1]
            return rest.split(marker[-1] + ")", 1)[0] if marker.endswith(("'", '"')) else rest.splitlines()[0]
    return _first_line(error)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else text.strip()


# The guard that names an output failure, by the kind of trial it happened in.
OUTPUT_CHECK = {"plain": "output", "perturb": "perturbation", "stress": "stress", "params": "parameters"}
OUTPUT_HINT = {
    "perturb": "the output did not follow a change of the inputs (a result cached from an earlier call?)",
    "stress": "the kernel is fragile where the reference is not (overflow or lost precision at this scale)",
    "params": "the output did not follow a change of the parameters (weights copied in __init__ or on the first call?)",
}


def precision_reasons(numerics: list[NumericsRecord], fp32_problem: bool, precision: str | None) -> list[Reason]:
    """The precision rule (docs/integrity.md): an fp32 problem is computed in IEEE fp32 unless --precision tf32 (which
    allows TF32 dots, nothing coarser). The records come from the interpreter (`interpreter_fidelity`)."""
    if not fp32_problem or precision in ("fp16", "bf16"):
        return []
    out = []
    for rec in numerics:
        kernel = rec.kernel
        if rec.op == "downcast":
            why = f"converts fp32 values to {rec.b}"
        elif rec.a in ("fp16", "bf16") or rec.b in ("fp16", "bf16"):
            why = f"multiplies {rec.a} x {rec.b} operands in tl.dot (fp32 inputs rounded to 16 bits)"
        elif rec.acc in ("fp16", "bf16"):
            why = f"accumulates tl.dot in {rec.acc}"
        elif rec.precision == "tf32" and precision != "tf32":
            why = "runs tl.dot on fp32 operands in TF32 (the default without input_precision=\"ieee\": 10-bit mantissas on the GPU)"
        else:
            continue
        out.append(Reason("precision", f"kernel {kernel} {why}; an fp32 problem is computed in IEEE fp32: pass input_precision=\"ieee\" "
                                       "(or \"tf32x3\") and keep fp32 accumulators, or opt in with --precision tf32 for TF32",
                          Verdict.PRECISION_DOWNGRADE))
    return out


def case_reasons(event: ResultEvent, comparison: Comparison, options: Any, case: CaseDescription | None = None,
                 fp32_problem: bool = False, own_kernels: frozenset[str] | None = None) -> list[Reason]:
    """All guard failures of one case, in verdict-priority order, the output's `comparison` last.
    `own_kernels` (the kernels the solution's source defines) enables the GPU witness."""
    reasons: list[Reason] = []
    if event.new_threads:
        reasons.append(Reason("threads", f"the forward started {event.new_threads} thread(s): work hidden from the timer", Verdict.STATIC_VIOLATION))
    for change in event.state_changes:
        reasons.append(Reason("global_state", f"the forward changed {change}", Verdict.GLOBAL_STATE))
    if event.rng_changed:
        reasons.append(Reason("global_state", "the forward changed the global RNG state", Verdict.GLOBAL_STATE))
    if event.mutated_inputs:
        reasons.append(Reason("inputs", f"the forward modified input(s) {event.mutated_inputs}; inputs must be left unchanged", Verdict.INPUT_MUTATED))
    if event.own_launches == 0:
        reasons.append(Reason("launches", "the forward launched none of the solution's own kernels", Verdict.NO_CUSTOM_KERNEL))
    if event.compute_ops and not options.allow_torch_ops:
        ops = ", ".join(f"aten.{k} x{v}" for k, v in sorted(event.compute_ops.items()))
        reasons.append(Reason("torch_ops", f"the forward computed with torch ({ops}); do the work in your kernels or pass --allow-torch-ops", Verdict.TORCH_COMPUTE))
    if event.host_ops and not options.allow_torch_ops:
        ops = ", ".join(f"{k} x{v}" for k, v in sorted(event.host_ops.items()))
        reasons.append(Reason("host_compute", f"the forward computed on the host ({ops}): values taken out of the inputs or of what the "
                              "forward produced feed Python arithmetic; do the work in your kernels or pass --allow-torch-ops", Verdict.TORCH_COMPUTE))
    if event.gpu_kernels is not None and own_kernels is not None and not options.allow_torch_ops:
        testimony = judge_kernels(event.gpu_kernels, own_kernels)
        if not testimony.clean:
            reasons.append(Reason("witness", f"the GPU profiler saw kernels that are neither the solution's nor data movement during the call: "
                                  f"{describe(testimony.foreign)}; torch computed for the forward (do the work in your kernels)", Verdict.TORCH_COMPUTE))
    if case is not None and case.kind != "plain":  # name the trial that decided it
        reasons = [dataclasses.replace(r, message=f"{case.title()}: {r.message}") for r in reasons]
    reasons += precision_reasons(event.numerics, fp32_problem, options.precision)
    if comparison.verdict is not Verdict.ACCEPTED:
        kind = case.kind if case else "plain"
        message = comparison.message if case is None else f"{case.title()}: {comparison.message}"
        if case is not None and case.id == "perturb-ties":
            message += " -- the output did not follow tied values, zero or negated slices the reference handles (a missing eps or clamp, a sign?)"
        elif kind in OUTPUT_HINT:
            message += f" -- {OUTPUT_HINT[kind]}"
        reasons.append(Reason(OUTPUT_CHECK.get(kind, "output"), message, comparison.verdict))
    return reasons


def weights_message(ev: WeightsEvent) -> str:
    """Why ModelNew's weights are not the reference's, in words a user can act on."""
    parts = []
    if ev.shape_mismatch:
        parts.append("shapes differ for " + ", ".join(f"{k} (Model {a}, ModelNew {b})" for k, (a, b) in ev.shape_mismatch.items()))
    if ev.reference_only:
        parts.append("Model's " + ", ".join(ev.reference_only) + " have no counterpart in ModelNew")
    if ev.candidate_only:
        parts.append("ModelNew's " + ", ".join(ev.candidate_only) + " have no counterpart in Model")
    if not ev.copied:
        return ("weights not copied: compat mode builds Model and ModelNew under the same seed and copies nothing (KernelBench's rule); "
                "ModelNew's own construction must make the reference's weights" + (f" ({'; '.join(parts)})" if parts else ""))
    return (f"weights not aligned by name ({'; '.join(parts) or 'no parameters'}): the check copied what matched and left the rest "
            "as ModelNew's own construction under the same seed as Model; name and shape parameters as Model does")


def judge_candidate(
    child: ChildResult,
    events: list[CandidateEvent],
    comparer: OutputComparer,
    cases: list[CaseDescription],
    options: Any,
    timeout_s: float,
    fp32_problem: bool = False,
    own_kernels: frozenset[str] | None = None,
) -> Judgement:
    j = Judgement(verdict=Verdict.ACCEPTED)
    case_info = {c.id: c for c in cases}
    unaligned: list[str] = []
    done: set[str] = set()

    def fail(verdict: Verdict, check: str, message: str) -> Judgement:
        j.reasons.insert(0, Reason(check, message, verdict))
        j.verdict = verdict
        return j

    for ev in events:
        if isinstance(ev, DoneEvent):
            j.launches = {**ev.own, **{f"other:{k}": v for k, v in ev.other.items()}}
            j.signatures, j.signatures_dropped = list(ev.signatures), ev.signatures_dropped
    last_call = None
    for ev in events:
        if isinstance(ev, (LoadedEvent, ConstructedEvent)):
            what = "importing the solution" if isinstance(ev, LoadedEvent) else "constructing ModelNew"
            for change in ev.state_changes:
                j.reasons.append(Reason("global_state", f"{what} changed {change}", Verdict.GLOBAL_STATE))
            if ev.new_threads:
                j.reasons.append(Reason("threads", f"{what} started threads", Verdict.STATIC_VIOLATION))
            init_compute = getattr(ev, "init_compute", {})
            init_launches = getattr(ev, "init_launches", 0)
            if init_launches:
                j.reasons.append(Reason("launches", f"{what} (or copying in the weights, moving it to the device, eval()) launched the "
                                        f"solution's kernels {init_launches} time(s): work done once before the calls is outside the checked "
                                        "forward and goes stale when the parameters change; do it in the forward", Verdict.STATIC_VIOLATION))
            if init_compute and not options.allow_torch_ops:
                ops = ", ".join(f"aten.{k} x{v}" for k, v in sorted(init_compute.items()))
                j.reasons.append(Reason("torch_ops", f"constructing ModelNew or loading its weights computed with torch ({ops}) on its "
                                        "parameters: work done once (in __init__ or a load_state_dict hook) is outside the kernels and "
                                        "goes stale when the parameters change; do it in your kernels in the forward", Verdict.TORCH_COMPUTE))
            if j.reasons:
                j.verdict = j.reasons[0].verdict
                return j
        elif isinstance(ev, RefusedEvent):
            return fail(Verdict.STATIC_VIOLATION, "audit", ev.message)
        elif isinstance(ev, WeightsEvent):
            j.weights_aligned = ev.aligned if j.weights_aligned is None else (j.weights_aligned and ev.aligned)
            if (not ev.aligned or not ev.copied) and not unaligned:
                unaligned.append(weights_message(ev))
                if not ev.aligned:
                    j.notes.append(unaligned[0])
        elif isinstance(ev, CallEvent):
            last_call = ev.case
        elif isinstance(ev, ErrorEvent):
            verdict = Verdict(ev.kind)
            where = f"case {ev.case}" if ev.case is not None else (ev.stage or "load")
            message = f"{where}: {_first_line(ev.error)}"
            if verdict is Verdict.NEEDS_GPU:
                message = f"{where}: needs a GPU to check: {_needs_gpu_text(ev.error)}"
            case = case_info.get(ev.case or "")
            variant = ev.variant or (case.variant if case else "shipped")
            if variant != "shipped" and verdict not in (Verdict.NEEDS_GPU, Verdict.GLOBAL_STATE, Verdict.STATIC_VIOLATION):
                # Every shipped case passed already (a failure there returns at once).
                constants = next(c.constants for c in cases if c.variant == variant)
                return fail(Verdict.SHAPE_OVERFIT, "variants", f"correct at the shipped values but {variant} fails at {constants}: {message}")
            if case is not None and case.kind != "plain":
                message = f"{case.title()}: {message}"
            j.reasons.append(Reason("run", ev.error[-1500:], verdict))
            return fail(verdict, "run", message)
        elif isinstance(ev, ResultEvent):
            case = case_info.get(ev.case)
            if case is None:
                raise CheckerFailure(f"the candidate's event log names case {ev.case!r}, which the checker did not send (this is not a verdict)")
            compare_began = time.monotonic()
            try:
                comparison = comparer.compare(ev)
            except RewrittenFile as exc:
                return fail(Verdict.STATIC_VIOLATION, "outputs", f"case {ev.case}: {exc}: code in the candidate's process changed its output after the call")
            reasons = case_reasons(ev, comparison, options, case, fp32_problem, own_kernels)
            done.add(ev.case)
            j.trials.append(
                {
                    "case": ev.case,
                    "variant": case.variant,
                    "kind": case.kind,
                    "seed": case.seed,
                    "grad_mode": ev.grad_mode,
                    "ok": not reasons,
                    "max_abs_err": comparison.max_abs_err,
                    "rel_err": comparison.rel_err,
                    "seconds": {**ev.seconds, "compare": round(time.monotonic() - compare_began, 3)},
                }
            )
            if comparison.max_abs_err is not None:
                j.max_abs_err = max(j.max_abs_err or 0.0, comparison.max_abs_err)
            if comparison.rel_err is not None:
                j.rel_err = max(j.rel_err or 0.0, comparison.rel_err)
            j.tolerance = comparison.tolerance or j.tolerance
            if reasons:
                first = reasons[0]
                if unaligned and first.verdict is Verdict.WRONG_OUTPUT:
                    reasons.append(Reason("weights", unaligned[0]))
                if case.variant != "shipped" and first.check == "output":
                    j.reasons = reasons
                    return fail(Verdict.SHAPE_OVERFIT, "variants",
                                f"correct at the shipped values but not in {case.variant} at {case.constants}: {first.message}")
                j.reasons = reasons
                j.verdict = first.verdict
                return j

    missing = [c.id for c in cases if c.id not in done]
    if not missing:
        return j
    where = f" during case {last_call}" if last_call else ""
    if child.returncode == AUDIT_EXIT:
        return fail(Verdict.STATIC_VIOLATION, "audit", f"the checker's runtime audit stopped the candidate{where}: it did something the checker forbids")
    if child.timed_out:
        return fail(Verdict.TIMEOUT, "sandbox", f"the candidate did not finish within {timeout_s:g}s{where}; it was stopped")
    if child.signal_name:
        return fail(Verdict.CRASH, "sandbox", f"the candidate process died of {child.signal_name}{where} (e.g. an illegal memory access)")
    tail = _first_line(child.stderr) if child.stderr.strip() else f"exit code {child.returncode}"
    return fail(Verdict.CRASH, "sandbox", f"the candidate process ended{where} without finishing: {tail}")
