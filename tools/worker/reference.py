"""Child worker: run the reference `Model` on every case and save what the candidate may see.

Writes, per shape variant, the constructor arguments and the reference weights (`shared/`), and
per case the inputs (`shared/`) and the reference outputs (`private/`). The parent moves the
private outputs into its own memory and deletes them before any candidate code starts.
Also measures the problem's minimum bytes and flops for the speed-of-light time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker.common import (
    DTYPES,
    as_list,
    cast_inputs,
    device_sync,
    error_text,
    load_module,
    save_tensors,
    seed_everything,
)


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


def run_variant(req: dict[str, Any], variant: dict[str, Any], shared: Path, private: Path) -> dict[str, Any]:
    device = torch.device(req["device"])
    dtype = DTYPES.get(req.get("precision") or "")
    module = load_module(f"kw_problem_{variant['name']}", req["problem_path"], variant["source"])
    init_inputs = as_list(module.get_init_inputs())
    seed_everything(42)
    model = module.Model(*init_inputs)
    model = model.to(device=device, dtype=dtype) if dtype else model.to(device)
    model.eval()
    save_tensors(shared / f"init_{variant['name']}.pt", init_inputs)
    save_tensors(shared / f"weights_{variant['name']}.pt", {k: v.detach().cpu() for k, v in model.state_dict().items()})
    info: dict[str, Any] = {"name": variant["name"], "constants": variant["constants"], "cases": []}
    for case in variant["cases"]:
        seed_everything(case["seed"])
        inputs = generate_inputs(module, device)
        save_tensors(shared / f"inputs_{case['id']}.pt", [v.cpu() if isinstance(v, torch.Tensor) else v for v in inputs])
        dev_inputs = cast_inputs(inputs, device, dtype)
        with torch.inference_mode():
            out = model(*dev_inputs)
        device_sync(device)
        save_tensors(private / f"ref_{case['id']}.pt", to_cpu(out))
        info["cases"].append({"id": case["id"], "seed": case["seed"], "output": describe_output(out)})
        if "bytes" not in info:
            params = list(model.parameters()) + list(model.buffers())
            info["bytes"] = tensor_bytes(dev_inputs) + tensor_bytes(params) + tensor_bytes(out)
            info["flops"] = count_flops(model, dev_inputs)
            info["input_spec"] = [describe_output(v) if isinstance(v, torch.Tensor) else {"value": repr(v)} for v in dev_inputs]
    return info


def main(req: dict[str, Any]) -> int:
    shared, private = Path(req["shared_dir"]), Path(req["private_dir"])
    result: dict[str, Any] = {"variants": [], "skipped_variants": []}
    for variant in req["variants"]:
        try:
            result["variants"].append(run_variant(req, variant, shared, private))
        except Exception as exc:  # noqa: BLE001 - the reference's failure is reported, not raised
            if variant["name"] == "shipped":
                result["error"] = error_text(exc)
                break
            # The protocol skips a variant on which the reference itself fails.
            result["skipped_variants"].append({"name": variant["name"], "error": error_text(exc, 600)})
    result["ok"] = "error" not in result
    from kernelwright.tools.devices import gpu_facts

    result["device_facts"] = gpu_facts(req["device"])
    Path(req["result_path"]).write_text(json.dumps(result))
    return 0
