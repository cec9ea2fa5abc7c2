"""Child worker: run the reference `Model` on every case and save what the candidate may see.

Writes, per variant, the constructor arguments and the reference weights (`shared/`), and per
trial the inputs (`shared/`) and the reference outputs (`private/`), computed with the library's
reduced-precision shortcuts off (`numerics.precise_reference`). The parent moves the
private outputs into its own memory and deletes them before any candidate code starts.
It resolves the plan (`kernelwright.tools.check.plan`) where only the reference can tell: the
first of the shipped sizes it runs at, the variant values it runs at (`resolve_values`), the
stress factors that are fair (`trials`).
Also measures the problem's minimum bytes and flops for the speed-of-light time. On a GPU the
process then stays up and times the reference eager on the parent's signed commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from kernelwright.tools import sizes
from kernelwright.tools.check.plan import VariantPlan
from kernelwright.tools.worker import trials
from kernelwright.tools.worker.common import (
    DTYPES,
    Commands,
    as_list,
    cast_inputs,
    device_sync,
    error_text,
    is_checker_side,
    load_module,
    save_tensors,
    seed_everything,
    write_json_atomic,
)
from kernelwright.tools.worker.numerics import precise_reference


def tensor_bytes(values: Any) -> int:
    if isinstance(values, torch.Tensor):
        return values.numel() * values.element_size()
    if isinstance(values, (list, tuple)):
        return sum(tensor_bytes(v) for v in values)
    return 0


def count_flops(model: torch.nn.Module, inputs: list[Any]) -> int | None:
    try:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(*inputs)
        return int(counter.get_total_flops())
    except Exception:  # noqa: BLE001 - flops are a nice-to-have; the roofline says when they are missing
        return None


def describe_output(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return {"shape": list(out.shape), "dtype": str(out.dtype).removeprefix("torch.")}
    if isinstance(out, (list, tuple)):
        return [describe_output(o) for o in out]
    return {"type": type(out).__name__}


def to_cpu(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.detach().cpu()
    if isinstance(out, (list, tuple)):
        return type(out)(to_cpu(o) for o in out)
    return out


def generate_inputs(module: Any, device: torch.device) -> list[Any]:
    """get_inputs() with factory functions defaulting to `device`: on a GPU, random inputs of
    hundreds of MB are drawn there in milliseconds instead of seconds on the host."""
    with torch.device(device):
        return as_list(module.get_inputs())


class Variant:
    """One variant as the reference worker runs it: the problem source at its values, its model."""

    def __init__(self, req: dict[str, Any], plan: VariantPlan, source: str) -> None:
        self.device = torch.device(req["device"])
        self.dtype = DTYPES.get(req.get("precision") or "")
        self.plan, self.source = plan, source
        self.module = load_module(f"kw_problem_{plan.name}", req["problem_path"], source)
        seed_everything(42)  # constructor arguments drawn at random are the same in every process
        self.init_inputs = as_list(self.module.get_init_inputs())
        seed_everything(42)
        model = self.module.Model(*self.init_inputs)
        model = model.to(device=self.device, dtype=self.dtype) if self.dtype else model.to(self.device)
        self.model = model.eval()
        # The weights the candidate copies are the constructed ones, before any parameter change.
        self.weights = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}

    def inputs(self, seed: int) -> list[Any]:
        seed_everything(seed)
        return cast_inputs(generate_inputs(self.module, self.device), self.device, self.dtype)

    def probe(self, seed: int) -> None:
        """Raise if the reference cannot run this variant (one forward on fresh inputs)."""
        trials.reference_forward(self.model, self.inputs(seed))


def run_variant(req: dict[str, Any], v: Variant, shared: Path, private: Path, constants: dict[str, Any]) -> dict[str, Any]:
    """Inputs and reference outputs of every trial of one variant; its report."""
    plan = v.plan
    info: dict[str, Any] = {"name": plan.name, "kind": plan.kind, "constants": constants, "cases": [], "skipped_cases": []}
    if plan.transform:
        info["transform"] = list(plan.transform)
    save_tensors(shared / f"init_{plan.name}.pt", v.init_inputs)
    save_tensors(shared / f"weights_{plan.name}.pt", v.weights)
    strict = req.get("mode", "strict") == "strict"
    search = trials.StressSearch(v.model, trials.reference_forward, plan.tolerances or {"fp32": [1e-4, 1e-4, 1e-3], "16bit": [1e-2, 1e-2, 1e-2]}, strict,
                                 req.get("precision"))
    made: dict[str, list[Any]] = {}
    for case in plan.cases:
        detail = ""
        if case.kind == "params":
            dev_inputs = v.inputs(case.seed)
            why = change_parameters_fairly(v.model, plan.transform, dev_inputs)
            if why:
                info["skipped_cases"].append({"id": case.id, "kind": case.kind, "why": why})
                continue
            scale, shift = plan.transform
            detail = f"every parameter p of Model and ModelNew set to {scale:.4g}*p + {shift:.4g} in place after the calls before"
        elif case.kind == "perturb":
            dev_inputs, detail = trials.perturb(made[case.base], case.how or "elements", case.seed)
            detail = f"the inputs of {case.base} with {detail}"
        else:
            dev_inputs = v.inputs(case.seed)
        if case.kind == "stress":
            stress = search.find(dev_inputs, case.how or "up")
            if stress.inputs is None:
                info["skipped_cases"].append({"id": case.id, "kind": case.kind, "why": stress.detail})
                continue
            dev_inputs, detail = stress.inputs, stress.detail
        made[case.id] = dev_inputs
        save_tensors(shared / f"inputs_{case.id}.pt", [x.cpu() if isinstance(x, torch.Tensor) else x for x in dev_inputs])
        out = trials.reference_forward(v.model, dev_inputs)
        device_sync(v.device)
        save_tensors(private / f"ref_{case.id}.pt", to_cpu(out))
        info["cases"].append({"id": case.id, "seed": case.seed, "kind": case.kind, "detail": detail, "output": describe_output(out)})
        if "bytes" not in info:
            params = list(v.model.parameters()) + list(v.model.buffers())
            info["bytes"] = tensor_bytes(dev_inputs) + tensor_bytes(params) + tensor_bytes(out)
            info["flops"] = count_flops(v.model, dev_inputs)
            info["input_spec"] = [describe_output(x) if isinstance(x, torch.Tensor) else {"value": repr(x)} for x in dev_inputs]
    return info


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


def _last_line(exc: BaseException) -> str:
    return error_text(exc, 600).strip().splitlines()[-1]


def resolve_values(req: dict[str, Any], plan: VariantPlan, knobs: sizes.SizeModel, base: dict[str, Any],
                   desired: dict[str, Any]) -> tuple[Variant | None, dict[str, Any], dict[str, str]]:
    """The variant at as many of the `desired` changes as the reference runs at: all of them, or
    else every change that runs alone and together. Returns the variant (None if no change runs),
    the changes kept and, for each change left out, the reference's error with it."""
    seed = plan.cases[0].seed

    def attempt(changes: dict[str, Any]) -> tuple[Variant | None, str]:
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
    kept: dict[str, Any] = {}
    for name, value in alone.items():  # greedily, in file order, as long as they run together
        ok, why = attempt({**kept, name: value})
        if ok is None:
            fixed[name] = f"runs alone but not with {', '.join(kept)}: {why}"
        else:
            kept[name] = value
    if not kept:
        return None, {}, fixed
    return attempt(kept)[0], kept, fixed


def run_plans(req: dict[str, Any], shared: Path, private: Path, result: dict[str, Any]) -> Variant | None:
    """Every variant of the plan, in order; the shipped variant (None if its reference fails)."""
    source = Path(req["problem_path"]).read_text()
    knobs = sizes.read_knobs(source)
    shipped: Variant | None = None
    base: dict[str, Any] = {}
    for plan in (VariantPlan.from_dict(d) for d in req["variants"]):
        if plan.kind == "shipped":
            attempts = []
            for values in plan.alternatives:
                try:
                    v = Variant(req, plan, sizes.apply(knobs, values))
                    result["variants"].append(run_variant(req, v, shared, private, values))
                    shipped, base = v, values
                    break
                except Exception as exc:  # noqa: BLE001 - the reference's failure is reported, not raised
                    if is_checker_side(exc):
                        return _checker_error(result, plan.name, exc)
                    attempts.append((values, exc))
            if shipped is None:
                values, exc = attempts[-1]
                tried = "; ".join(f"at {sizes.describe(knobs, a) or 'the sizes of the file'}: {_last_line(e)}" for a, e in attempts)
                result["error"] = error_text(exc) if len(attempts) == 1 else f"the reference fails at every size tried ({tried})"
                result["attempts"] = [{"values": a, "error": _last_line(e)} for a, e in attempts]
                return None
            result["shipped_values"] = base
            continue
        try:
            current = knobs.values(base)
            desired = (sizes.shape_variant if plan.kind == "sizes" else sizes.value_variant)(knobs, current)
            if not desired:
                what = "no size of 8 or more" if plan.kind == "sizes" else "no small integer or float"
                result["skipped_variants"].append({"name": plan.name, "kind": plan.kind, "error": f"nothing to vary: the problem has {what} that feeds its inputs or its constructor"})
                continue
            v, changes, fixed = resolve_values(req, plan, knobs, base, desired)
            if v is None:
                result["skipped_variants"].append({"name": plan.name, "kind": plan.kind, "fixed": fixed,
                                                   "error": "the reference fails at every changed value: " + "; ".join(f"{k}: {w}" for k, w in fixed.items())})
                continue
            info = run_variant(req, v, shared, private, changes)
            info["fixed"] = fixed
            info["from"] = {name: knobs.values(base)[name] for name in changes}
            result["variants"].append(info)
        except Exception as exc:  # noqa: BLE001 - the protocol skips a variant on which the reference itself fails
            if is_checker_side(exc):
                return _checker_error(result, plan.name, exc)
            result["skipped_variants"].append({"name": plan.name, "kind": plan.kind, "error": error_text(exc, 600)})
    return shipped


def _checker_error(result: dict[str, Any], variant: str, exc: BaseException) -> None:
    """Disk or memory of the checker: a tool failure, never a skipped variant (that would drop the
    variant's protection silently) and never "the reference fails"."""
    result["checker_error"] = f"variant {variant}: {error_text(exc, 600).strip().splitlines()[-1]}"


def serve_timing(commands: Commands, model: Any, module: Any, req: dict[str, Any]) -> None:
    """Time the reference eager whenever the parent asks (before and after the candidate), in
    this process: its start-up is paid once per check, and its model is the one that produced
    the reference outputs. Ends when the parent closes the pipe."""
    from kernelwright.tools.worker.timing import input_pool, measure, refill, save_outputs

    device = torch.device(req["device"])
    dtype = DTYPES.get(req.get("precision") or "")
    pools: dict[tuple[int, ...], list[list[Any]]] = {}
    if device.type == "cuda":
        torch.cuda.set_device(device)  # events and the flush on the reference's GPU
        torch.cuda.empty_cache()  # the candidate's process gets the memory while this one waits
    while (command := commands.next()) is not None:
        seeds = tuple(command["pool_seeds"])
        with torch.inference_mode():
            if seeds not in pools:
                pools[seeds] = input_pool(module, device, dtype, list(seeds))
            pool = pools[seeds]
            measured = measure(model, pool, device, compat=req.get("mode") == "compat")
            result = {"stats": measured["stats"], "warmup_calls": measured["warmup_calls"], "flush_bytes": measured["flush_bytes"]}
            if command.get("outputs_dir"):
                # The reference's output for every pool slot, to re-check the candidate's timed calls.
                buffers, outputs = measured["buffers"], []
                with precise_reference():  # the same numerics as the outputs of the checked cases
                    for slot, inputs in enumerate(pool):
                        refill(buffers, inputs)
                        outputs.append((slot, model(*buffers)))
                result["saved_outputs"] = len(save_outputs(Path(command["outputs_dir"]), outputs))
        write_json_atomic(Path(command["result_path"]), result)


def main(req: dict[str, Any]) -> int:
    import sys

    commands = Commands(sys.stdin.buffer) if req.get("serve") else None
    shared, private = Path(req["shared_dir"]), Path(req["private_dir"])
    result: dict[str, Any] = {"variants": [], "skipped_variants": []}
    if req.get("outputs", True):
        shipped = run_plans(req, shared, private, result)
    else:
        # The run's reference outputs are cached in the parent: only time eager here, at the
        # shipped values the cached run resolved (the plan's only alternative then).
        plan = VariantPlan.from_dict(req["variants"][0])
        shipped = Variant(req, plan, sizes.apply(sizes.read_knobs(Path(req["problem_path"]).read_text()), plan.alternatives[0]))
        if plan.transform and any(c.kind == "params" for c in plan.cases):  # as the candidate's model, after its trials
            trials.change_parameters(shipped.model, *plan.transform)
    result["ok"] = "error" not in result and "checker_error" not in result
    from kernelwright.tools.devices import gpu_facts

    result["device_facts"] = gpu_facts(req["device"])
    write_json_atomic(Path(req["result_path"]), result)
    if commands is not None and not commands.closed and shipped is not None:
        serve_timing(commands, shipped.model, shipped.module, req)
    return 0
