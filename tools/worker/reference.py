"""Child worker: run the reference `Model` on every case and save what the candidate may see.

Writes, per variant, the constructor arguments and the reference weights (`shared/`), and per
trial the reference outputs (kept to compare the candidate's here: `reference_compare`; in a
run with a reference cache, in `private/` for the parent) and the recipe of its inputs in its report (the inputs
themselves, in `shared/`, only where no seed makes them again: `input_recipe`), computed with the library's
reduced-precision shortcuts off (`numerics.precise_reference`). Files in `private/` the parent
moves into its own memory and deletes before any candidate code starts.
A variant's trials run in `reference_trials`. It resolves the plan (`kernelwright.tools.check.plan`)
where only the reference can tell: the first of the shipped sizes it runs at, the variant values
it runs at (`resolve_values`), the stress factors that are fair (`trials`).
Also measures the problem's minimum bytes and flops for the speed-of-light time. On a GPU the
process then stays up and times the reference eager on the parent's signed commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools import sizes
from kernelwright.tools.check.plan import Number, VariantPlan
from kernelwright.tools.worker import trials
from kernelwright.tools.worker.common import (
    DTYPES,
    CheckerSideError,
    Commands,
    error_text,
    is_checker_side,
    write_json_atomic,
)
from kernelwright.tools.worker.numerics import precise_reference
from kernelwright.tools.worker.output_share import SharedInbox
from kernelwright.tools.worker.reference_compare import HeldOutputs, serve_compare
from kernelwright.tools.worker.reference_protocol import (
    CompareCommand,
    EagerTiming,
    FailedAttempt,
    ReferenceReport,
    ReferenceRequest,
    SkippedVariant,
    TimeEagerCommand,
    VariantReport,
)
from kernelwright.tools.worker.reference_trials import Variant, run_variant
from kernelwright.tools.worker.trial_budget import TrialBudget


def _last_line(exc: BaseException) -> str:
    return error_text(exc, 600).strip().splitlines()[-1]


def resolve_values(req: ReferenceRequest, plan: VariantPlan, knobs: sizes.SizeModel, base: dict[str, Number],
                   desired: dict[str, Number]) -> tuple[Variant | None, dict[str, Number], dict[str, str]]:
    """The variant at as many of the `desired` changes as the reference runs at: all of them, or
    else every change that runs alone and together. Returns the variant (None if no change runs),
    the changes kept and, for each change left out, the reference's error with it."""
    seed = plan.cases[0].seed

    def attempt(changes: dict[str, Number]) -> tuple[Variant | None, str]:
        try:
            v = Variant(req, plan, sizes.apply(knobs, {**base, **changes}))
            v.probe(seed)
            return v, ""
        except Exception as exc:  # noqa: BLE001 - the reference's failure decides what is left fixed
            return None, _last_line(exc)

    v, why = attempt(desired)
    if v is not None or len(desired) == 1:
        return v, (desired if v else {}), ({} if v else {name: why for name in desired})
    alone, fixed = {}, {}
    for name, value in desired.items():
        ok, why = attempt({name: value})
        if ok is None:
            fixed[name] = why
        else:
            alone[name] = value
    kept: dict[str, Number] = {}
    for name, value in alone.items():  # greedily, in file order, as long as they run together
        ok, why = attempt({**kept, name: value})
        if ok is None:
            fixed[name] = f"runs alone but not with {', '.join(kept)}: {why}"
        else:
            kept[name] = value
    if not kept:
        return None, {}, fixed
    return attempt(kept)[0], kept, fixed


def run_plans(req: ReferenceRequest, shared: Path, private: Path, held: HeldOutputs | None = None) -> tuple[Variant | None, ReferenceReport]:
    """Every variant of the plan, in order; the shipped variant (None if its reference fails) and
    the report (`ok` not yet set)."""
    source = Path(req.problem_path).read_text()
    knobs = sizes.read_knobs(source)
    shipped: Variant | None = None
    base: dict[str, Number] = {}
    ran: list[VariantReport] = []
    skipped: list[SkippedVariant] = []
    budget = TrialBudget(req)

    def report(**outcome: Any) -> ReferenceReport:
        return ReferenceReport(variants=ran, skipped_variants=skipped, **outcome)

    for plan in req.variants:
        if plan.kind == "shipped":
            attempts = []
            for values in plan.alternatives:
                try:
                    v = Variant(req, plan, sizes.apply(knobs, values))
                    ran.append(run_variant(req, v, shared, private, values, budget, held))
                    shipped, base = v, values
                    break
                except Exception as exc:  # noqa: BLE001 - the reference's failure is reported, not raised
                    if is_checker_side(exc):
                        return None, report(checker_error=_checker_error(plan.name, exc))
                    attempts.append((values, exc))
            if shipped is None:
                values, exc = attempts[-1]
                tried = "; ".join(f"at {sizes.describe(knobs, a) or 'the sizes of the file'}: {_last_line(e)}" for a, e in attempts)
                error = error_text(exc) if len(attempts) == 1 else f"the reference fails at every size tried ({tried})"
                return None, report(error=error, attempts=[FailedAttempt(values=a, error=_last_line(e)) for a, e in attempts])
            continue
        if not any(budget.allows(c.id) for c in plan.cases):
            skipped.append(SkippedVariant(name=plan.name, kind=plan.kind, error=budget.why))
            continue
        try:
            current = knobs.values(base)
            # The shape variant's tails drawn from the variant's secret seed (not knowable by the candidate).
            desired = sizes.shape_variant(knobs, current, plan.cases[0].seed) if plan.kind == "sizes" else sizes.value_variant(knobs, current)
            if not desired:
                what = "no size of 8 or more" if plan.kind == "sizes" else "no small integer or float"
                skipped.append(SkippedVariant(name=plan.name, kind=plan.kind,
                                              error=f"nothing to vary: the problem has {what} that feeds its inputs or its constructor"))
                continue
            v, changes, fixed = resolve_values(req, plan, knobs, base, desired)
            if v is None:
                skipped.append(SkippedVariant(name=plan.name, kind=plan.kind, fixed=fixed,
                                              error="the reference fails at every changed value: " + "; ".join(f"{k}: {w}" for k, w in fixed.items())))
                continue
            info = run_variant(req, v, shared, private, changes, budget, held)
            ran.append(info.model_copy(update={"fixed": fixed, "from_": {name: knobs.values(base)[name] for name in changes}}))
        except Exception as exc:  # noqa: BLE001 - the protocol skips a variant on which the reference itself fails
            if is_checker_side(exc):
                return None, report(shipped_values=base, checker_error=_checker_error(plan.name, exc))
            skipped.append(SkippedVariant(name=plan.name, kind=plan.kind, error=error_text(exc, 600)))
    return shipped, report(shipped_values=base)


def _checker_error(variant: str, exc: BaseException) -> str:
    """Disk or memory of the checker: a tool failure, never a skipped variant (that would drop the
    variant's protection silently) and never "the reference fails"."""
    if isinstance(exc, CheckerSideError):  # the checker's own words, without a traceback's class path
        return f"variant {variant}: {exc}"
    return f"variant {variant}: {error_text(exc, 600).strip().splitlines()[-1]}"


def serve(commands: Commands, model: Any, module: Any, req: ReferenceRequest, held: HeldOutputs | None) -> None:
    """Compare the candidate's outputs with the held ones, and time the reference eager, whenever
    the parent asks (before and after the candidate), in this process: its start-up is paid once
    per check, and its model is the one that produced the reference outputs. Ends when the
    parent closes the pipe."""
    from kernelwright.tools.worker.timing import input_pool, measure, refill, save_outputs

    device = torch.device(req.device)
    dtype = DTYPES.get(req.precision or "")
    pools: dict[tuple[int, ...], list[list[Any]]] = {}
    if device.type == "cuda":
        torch.cuda.set_device(device)  # events and the flush on the reference's GPU
        torch.cuda.empty_cache()  # the candidate's process gets the memory while this one waits
    while (text := commands.next()) is not None:
        data = json.loads(text)
        if data.get("cmd") == "compare":
            serve_compare(held or HeldOutputs(device), CompareCommand.model_validate(data), req.mode)
            continue
        command = TimeEagerCommand.model_validate(data)
        seeds = tuple(command.pool_seeds)
        saved = None
        with torch.inference_mode():
            if seeds not in pools:
                pools[seeds] = input_pool(module, device, dtype, list(seeds))
            pool = pools[seeds]
            measured = measure(model, pool, device, compat=req.mode == "compat")
            if command.outputs_dir:
                # The reference's output for every pool slot, to re-check the candidate's timed calls.
                buffers, outputs = measured.buffers, []
                with precise_reference():  # the same numerics as the outputs of the checked cases
                    for slot, inputs in enumerate(pool):
                        refill(buffers, inputs)
                        outputs.append((slot, trials.plain_tuples(model(*buffers))))
                saved = save_outputs(Path(command.outputs_dir), outputs)
        result = EagerTiming(stats=measured.stats, warmup_calls=measured.warmup_calls, flush_bytes=measured.flush_bytes, saved_outputs=saved)
        write_json_atomic(Path(command.result_path), result.model_dump(mode="json"))


def main(request_text: str) -> int:
    import sys

    req = ReferenceRequest.model_validate_json(request_text)
    commands = Commands(sys.stdin.buffer) if req.serve else None
    shared, private = Path(req.shared_dir), Path(req.private_dir)
    held = HeldOutputs(torch.device(req.device)) if req.compare_here else None
    if held is not None and req.share_path:  # listening before the candidate's first output can come
        held.inbox = SharedInbox(Path(req.share_path))
    if req.outputs:
        shipped, report = run_plans(req, shared, private, held)
    else:
        # The run's reference outputs are cached in the parent: only time eager here, at the
        # shipped values the cached run resolved (the plan's only alternative then).
        plan = req.variants[0]
        shipped = Variant(req, plan, sizes.apply(sizes.read_knobs(Path(req.problem_path).read_text()), plan.alternatives[0]))
        if plan.transform and any(c.kind == "params" for c in plan.cases):  # as the candidate's model, after its trials
            trials.change_parameters(shipped.model, *plan.transform)
        report = ReferenceReport()
    from kernelwright.tools.devices import gpu_facts

    report = report.model_copy(update={"ok": report.error is None and report.checker_error is None, "device_facts": gpu_facts(req.device)})
    write_json_atomic(Path(req.result_path), report.model_dump(mode="json", by_alias=True))
    if commands is not None and not commands.closed and shipped is not None:
        serve(commands, shipped.model, shipped.module, req, held)
    return 0
