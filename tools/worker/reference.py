"""Child worker: run the reference `Model` on every case and save what the candidate may see.

Writes, per shape variant, the constructor arguments and the reference weights (`shared/`), and
per case the inputs (`shared/`) and the reference outputs (`private/`), computed with the library's
reduced-precision shortcuts off (`numerics.precise_reference`). The parent moves the
private outputs into its own memory and deletes them before any candidate code starts.
Also measures the problem's minimum bytes and flops for the speed-of-light time. On a GPU the
process then stays up and times the reference eager on the parent's signed commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

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


def build_reference(req: dict[str, Any], variant: dict[str, Any]) -> tuple[Any, Any, list[Any]]:
    """The problem module, its `Model` (seeded as everywhere) and the constructor arguments."""
    device = torch.device(req["device"])
    dtype = DTYPES.get(req.get("precision") or "")
    module = load_module(f"kw_problem_{variant['name']}", req["problem_path"], variant["source"])
    seed_everything(42)  # constructor arguments drawn at random are the same in every process
    init_inputs = as_list(module.get_init_inputs())
    seed_everything(42)
    model = module.Model(*init_inputs)
    model = model.to(device=device, dtype=dtype) if dtype else model.to(device)
    return module, model.eval(), init_inputs


def run_variant(req: dict[str, Any], variant: dict[str, Any], shared: Path, private: Path) -> tuple[dict[str, Any], Any, Any]:
    """Outputs of every case of one variant. Returns the report, the model and the problem module."""
    device = torch.device(req["device"])
    dtype = DTYPES.get(req.get("precision") or "")
    module, model, init_inputs = build_reference(req, variant)
    save_tensors(shared / f"init_{variant['name']}.pt", init_inputs)
    save_tensors(shared / f"weights_{variant['name']}.pt", {k: v.detach().cpu() for k, v in model.state_dict().items()})
    info: dict[str, Any] = {"name": variant["name"], "constants": variant["constants"], "cases": []}
    for case in variant["cases"]:
        seed_everything(case["seed"])
        inputs = generate_inputs(module, device)
        save_tensors(shared / f"inputs_{case['id']}.pt", [v.cpu() if isinstance(v, torch.Tensor) else v for v in inputs])
        dev_inputs = cast_inputs(inputs, device, dtype)
        with torch.inference_mode(), precise_reference():
            out = model(*dev_inputs)
        device_sync(device)
        save_tensors(private / f"ref_{case['id']}.pt", to_cpu(out))
        info["cases"].append({"id": case["id"], "seed": case["seed"], "output": describe_output(out)})
        if "bytes" not in info:
            params = list(model.parameters()) + list(model.buffers())
            info["bytes"] = tensor_bytes(dev_inputs) + tensor_bytes(params) + tensor_bytes(out)
            info["flops"] = count_flops(model, dev_inputs)
            info["input_spec"] = [describe_output(v) if isinstance(v, torch.Tensor) else {"value": repr(v)} for v in dev_inputs]
    return info, model, module


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
    shipped: tuple[Any, Any] | None = None
    if not req.get("outputs", True):
        # The run's reference outputs are cached in the parent: only time eager here.
        module, model, _ = build_reference(req, req["variants"][0])
        shipped = (model, module)
    for variant in req["variants"] if req.get("outputs", True) else []:
        try:
            info, model, module = run_variant(req, variant, shared, private)
            result["variants"].append(info)
            if variant["name"] == "shipped":
                shipped = (model, module)
        except Exception as exc:  # noqa: BLE001 - the reference's failure is reported, not raised
            if is_checker_side(exc):
                # Disk or memory of the checker: a tool failure, never a skipped variant (that would
                # drop the variant's protection silently) and never "the reference fails".
                result["checker_error"] = f"variant {variant['name']}: {error_text(exc, 600).strip().splitlines()[-1]}"
                break
            if variant["name"] == "shipped":
                result["error"] = error_text(exc)
                break
            # The protocol skips a variant on which the reference itself fails.
            result["skipped_variants"].append({"name": variant["name"], "error": error_text(exc, 600)})
    result["ok"] = "error" not in result and "checker_error" not in result
    from kernelwright.tools.devices import gpu_facts

    result["device_facts"] = gpu_facts(req["device"])
    write_json_atomic(Path(req["result_path"]), result)
    if commands is not None and not commands.closed and shipped is not None:
        serve_timing(commands, *shipped, req)
    return 0
