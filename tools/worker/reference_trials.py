"""The reference worker's trials: `Model` built under the plan's construction seed (`Variant`) and
every trial of a variant run on it (`run_variant`): its inputs made from their recipe (perturbed,
stressed or after the parameters change), the reference output kept for the comparison, the
scratch and device memory kept for the next trial (a trial out of device memory runs once more
with the held outputs on the host)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.check.plan import CasePlan, Number, VariantPlan
from kernelwright.tools.worker import trials
from kernelwright.tools.worker.candidate_protocol import InputRecipe
from kernelwright.tools.worker.common import (
    DTYPES,
    CheckerSideError,
    as_list,
    device_sync,
    load_module,
    save_tensors,
    seed_everything,
    tensor_bytes,
)
from kernelwright.tools.worker.input_recipe import fingerprint, make_inputs
from kernelwright.tools.worker.reference_compare import HeldOutputs
from kernelwright.tools.worker.reference_protocol import (
    CaseReport,
    OutputSpec,
    RecipeReport,
    ReferenceRequest,
    SkippedCase,
    TensorSpec,
    VariantReport,
)
from kernelwright.tools.worker.trial_budget import TrialBudget


def count_flops(model: torch.nn.Module, inputs: list[Any]) -> int | None:
    try:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(*inputs)
        return int(counter.get_total_flops())
    except Exception:  # noqa: BLE001 - flops are a nice-to-have; the roofline says when they are missing
        return None


def describe_output(out: Any) -> OutputSpec:
    if isinstance(out, torch.Tensor):
        return TensorSpec(shape=list(out.shape), dtype=str(out.dtype).removeprefix("torch."))
    if isinstance(out, (list, tuple)):
        return [describe_output(o) for o in out]
    return TensorSpec(type=type(out).__name__)


def to_cpu(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.detach().cpu()
    if isinstance(out, (list, tuple)):
        return type(out)(to_cpu(o) for o in out)
    return out


class Variant:
    """One variant as the reference worker runs it: the problem source at its values, its model."""

    def __init__(self, req: ReferenceRequest, plan: VariantPlan, source: str) -> None:
        self.device = torch.device(req.device)
        self.dtype = DTYPES.get(req.precision or "")
        self.plan, self.source = plan, source
        self.module = load_module(f"kw_problem_{plan.name}", req.problem_path, source)
        # Constructor arguments drawn at random are the same in every process (they travel as a
        # file); Model and ModelNew are built under the plan's secret construction seed.
        seed_everything(42)
        self.init_inputs = as_list(self.module.get_init_inputs())
        seed_everything(plan.construction_seed)
        model = self.module.Model(*self.init_inputs)
        model = model.to(device=self.device, dtype=self.dtype) if self.dtype else model.to(self.device)
        self.model = model.eval()
        # The weights the candidate copies are the constructed ones, before any parameter change.
        self.weights = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}

    def inputs(self, seed: int) -> list[Any]:
        return self.make(InputRecipe(seed=seed))

    def make(self, recipe: InputRecipe) -> list[Any]:
        return make_inputs(self.module, recipe, self.device, self.dtype)

    def probe(self, seed: int) -> None:
        """Raise if the reference cannot run this variant (one forward on fresh inputs)."""
        trials.reference_forward(self.model, self.inputs(seed))


def run_variant(req: ReferenceRequest, v: Variant, shared: Path, private: Path, constants: dict[str, Number],
                budget: TrialBudget | None = None, held: HeldOutputs | None = None) -> VariantReport:
    """Inputs and reference outputs of every trial of one variant that fits `budget`; its report.
    The outputs go to `held` (compared in this process), else to files in `private`."""
    plan = v.plan
    budget = budget or TrialBudget(req)
    cases: list[CaseReport] = []
    skipped: list[SkippedCase] = []
    bases = {c.base for c in plan.cases if c.base}  # the only inputs kept after their trial (large ones fill the device)
    seeds = {c.id: c.seed for c in plan.cases}
    first: VariantReport | None = None  # the first trial's bytes, flops and input spec (the speed of light's inputs)
    save_tensors(shared / f"init_{plan.name}.pt", v.init_inputs)
    save_tensors(shared / f"weights_{plan.name}.pt", v.weights)
    strict = req.mode == "strict"
    search = trials.StressSearch(v.model, trials.reference_forward, plan.tolerances or {"fp32": [1e-4, 1e-4, 1e-3], "16bit": [1e-2, 1e-2, 1e-2]}, strict,
                                 req.precision)
    made: dict[str, list[Any]] = {}
    by_recipe: bool | None = None  # decided on the variant's first trial: can the candidate make its inputs?

    def trial(case: CasePlan) -> None:
        nonlocal by_recipe, first
        began = time.perf_counter()
        detail = ""
        recipe = InputRecipe(seed=case.seed)
        if case.kind == "params":
            dev_inputs = v.inputs(case.seed)
            why = change_parameters_fairly(v.model, plan.transform, dev_inputs)
            if why:
                skipped.append(SkippedCase(id=case.id, kind=case.kind, why=why))
                return
            scale, shift = plan.transform
            detail = f"every parameter p of Model and ModelNew set to {scale:.4g}*p + {shift:.4g} in place after the calls before"
        elif case.kind == "perturb":
            recipe = InputRecipe(seed=seeds[case.base], perturb=case.how or "elements", perturb_seed=case.seed)
            base = made[case.base] if case.base in made else v.inputs(seeds[case.base])  # its base may have been dropped
            dev_inputs, detail = trials.perturb(base, recipe.perturb, case.seed)
            if case.how == "ties" and tied_values_unfair(v.model, base, dev_inputs):
                # Zero slices are fair only where the reference handles them: else ties alone.
                recipe = dataclasses.replace(recipe, degenerate_rows=False)
                dev_inputs, detail = trials.perturb(base, "ties", case.seed, degenerate_rows=False)
                if tied_values_unfair(v.model, base, dev_inputs):
                    skipped.append(SkippedCase(id=case.id, kind=case.kind, why="the reference is not finite on integer-rounded inputs"))
                    return
            detail = f"the inputs of {case.base} with {detail}"
        else:
            dev_inputs = v.inputs(case.seed)
        if case.kind == "stress":
            stress = search.find(dev_inputs, case.how or "up")
            if stress.inputs is None:
                skipped.append(SkippedCase(id=case.id, kind=case.kind, why=stress.detail))
                return
            dev_inputs, detail = stress.inputs, stress.detail
            recipe = dataclasses.replace(recipe, stress=case.how or "up", stress_factor=stress.factor)
        if case.id in bases:
            made[case.id] = dev_inputs
        recipe = dataclasses.replace(recipe, fingerprint=fingerprint(dev_inputs))
        if by_recipe is None:
            # Made twice, the same bits: get_inputs draws only from the seeded generators.
            by_recipe = fingerprint(v.make(recipe)) == recipe.fingerprint
        inputs_file = None if by_recipe else shared / f"inputs_{case.id}.pt"
        if inputs_file is not None:
            save_tensors(inputs_file, [x.cpu() if isinstance(x, torch.Tensor) else x for x in dev_inputs])
        out = trials.reference_forward(v.model, dev_inputs)
        device_sync(v.device)
        if held is not None:
            output_bytes = held.keep(case.id, out)
        else:
            save_tensors(private / f"ref_{case.id}.pt", to_cpu(out))
            output_bytes = (private / f"ref_{case.id}.pt").stat().st_size
        budget.measured(v.model, inputs_file.stat().st_size if inputs_file else 0, output_bytes, reference_files=held is None)
        cases.append(CaseReport(id=case.id, seed=case.seed, kind=case.kind, detail=detail, output=describe_output(out),
                                inputs=RecipeReport(**dataclasses.asdict(recipe)) if by_recipe else None,
                                seconds=round(time.perf_counter() - began, 3)))
        if first is None:
            params = list(v.model.parameters()) + list(v.model.buffers())
            first = VariantReport(name=plan.name, kind=plan.kind, constants=constants, cases=[], skipped_cases=[],
                                  bytes=tensor_bytes(dev_inputs) + tensor_bytes(params) + tensor_bytes(out),
                                  flops=count_flops(v.model, dev_inputs) if v.device.type == "cuda" else None,  # for the GPU's speed of light
                                  input_spec=[describe_output(x) if isinstance(x, torch.Tensor) else TensorSpec(value=repr(x)) for x in dev_inputs])

    # A base's inputs are dropped after the last trial that perturbs them (on a GPU, at KernelBench's
    # sizes, each is several GB of the device).
    last_use = {b: max(i for i, c in enumerate(plan.cases) if c.base == b) for b in bases}
    for i, case in enumerate(plan.cases):
        if not budget.allows(case.id):
            skipped.append(SkippedCase(id=case.id, kind=case.kind, why=budget.why))
            continue
        if _ran_out_of_device_memory(trial, case):
            # The outputs held for the comparison go to the host and the trial runs once more (out of
            # the handler, whose traceback held the failed attempt's tensors).
            cases[:] = [c for c in cases if c.id != case.id]
            skipped[:] = [c for c in skipped if c.id != case.id]
            if case.kind == "params" or held is None or not held.spill():  # a params trial changed the model: not run twice
                raise CheckerSideError(f"trial {case.id} ran out of device memory with none of the checker's outputs left on the device to "
                                       "move to the host")
            trial(case)
        for b in [b for b, last in last_use.items() if last <= i]:
            made.pop(b, None)
    report = first or VariantReport(name=plan.name, kind=plan.kind, constants=constants, cases=[], skipped_cases=[])
    return report.model_copy(update={"cases": cases, "skipped_cases": skipped, "transform": list(plan.transform) if plan.transform else None,
                                     "source": v.source, "construction_seed": plan.construction_seed})


def _ran_out_of_device_memory(trial: Callable[[CasePlan], None], case: CasePlan) -> bool:
    """Run one trial; True if it ran out of GPU memory (the allocator's cache emptied), else its result stands."""
    try:
        trial(case)
        return False
    except torch.cuda.OutOfMemoryError:
        pass
    torch.cuda.empty_cache()
    return True


def tied_values_unfair(model: torch.nn.Module, base: list[Any], tied: list[Any]) -> bool:
    """Rounding to integers makes zeros (a log, a division): a trial where the reference itself
    overflows is not one a kernel can be judged on."""
    return trials.nonfinite(trials.reference_forward(model, tied)) > trials.nonfinite(trials.reference_forward(model, base))


def change_parameters_fairly(model: torch.nn.Module, transform: tuple[float, float] | None, inputs: list[Any]) -> str:
    """Change the parameters for the params trial; '' if done, else why not (then unchanged)."""
    if not transform or not any(p.is_floating_point() for p in model.parameters()):
        return "Model has no floating-point parameters to change"
    before = trials.reference_forward(model, inputs)
    saved = {k: t.detach().clone() for k, t in model.state_dict().items()}
    trials.change_parameters(model, *transform)
    if trials.nonfinite(trials.reference_forward(model, inputs)) > trials.nonfinite(before):
        model.load_state_dict(saved)
        return "the reference overflows with the changed parameters"
    return ""
