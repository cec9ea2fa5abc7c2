"""Child worker: the reference's minimum bytes and flops at its shipped sizes, for the roofline.

`python -m kernelwright.tools.worker.flops REQUEST.json`. Runs `Model` once under
`FlopCounterMode`, first on the meta device (shapes only: free at any size), and on the requested
device if the reference does something meta tensors cannot (data-dependent code, `.item()`).
Bytes = inputs + parameters + buffers + outputs, each counted once (as the check's roofline).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

import torch

from kernelwright.tools.worker.common import as_list, error_text, load_module, seed_everything, tensor_bytes
from kernelwright.tools.worker.profile_protocol import Described, FlopsAnswer, FlopsRequest, read_request
from kernelwright.tools.worker.reference_protocol import spec_json
from kernelwright.tools.worker.reference_trials import describe_output

TOP_OPS = 8


def first_dtype(desc: Described) -> str:
    if isinstance(desc, list):
        return first_dtype(desc[0]) if desc else "float32"
    return desc.get("dtype", "float32")


def measure(module: Any, device: str) -> FlopsAnswer:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device(device):
        init_inputs = as_list(module.get_init_inputs())
        seed_everything(42)
        model = module.Model(*init_inputs)
        inputs = as_list(module.get_inputs())
    model = model.to(device).eval()
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        out = model(*inputs)
    ops = {str(op): int(n) for op, n in counter.get_flop_counts().get("Global", {}).items()}
    top = dict(sorted(ops.items(), key=lambda kv: -kv[1])[:TOP_OPS])
    params = list(model.parameters()) + list(model.buffers())
    output = cast(Described, spec_json(describe_output(out)))  # spec_json writes a description
    return {
        "bytes": tensor_bytes(inputs) + tensor_bytes(params) + tensor_bytes(out),
        "input_bytes": tensor_bytes(inputs),
        "parameter_bytes": tensor_bytes(params),
        "output_bytes": tensor_bytes(out),
        "flops": int(counter.get_total_flops()),
        "flops_by_op": top,
        "inputs": [cast(Described, spec_json(describe_output(v))) if isinstance(v, torch.Tensor) else {"value": repr(v)[:80]} for v in inputs],
        "output": output,
        "dtype": first_dtype(output),
    }


def main(req: FlopsRequest) -> int:
    result: FlopsAnswer = {"ok": False}
    module = None
    try:
        module = load_module("kw_problem", req.problem_path)
        try:
            result.update(measure(module, "meta"), counted_on="meta")
        except Exception:  # noqa: BLE001 - meta tensors cannot run every reference: run it for real
            result.update(measure(module, req.device), counted_on=req.device)
        result["ok"] = True
    except Exception as exc:  # noqa: BLE001 - the reference's own failure is the answer
        result["error"] = error_text(exc, 1500)
    if req.device.startswith("cuda"):
        from kernelwright.tools.devices import gpu_facts

        result["device_facts"] = gpu_facts(req.device)
    Path(req.result_path).write_text(json.dumps(result, default=str))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(read_request(FlopsRequest, sys.argv[1])))
