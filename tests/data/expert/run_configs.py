"""Child process for tests/test_expert_gpu_space.py: run generated solutions against the reference.

    python run_configs.py REQUEST.json

REQUEST: {"problem": path of the problem at the sizes to run, "device": "cpu" | "cuda",
"solutions": [paths, one config each], "tolerances_of": the shipped problem (its tolerance sidecar), "prune": optional path of an autotuned solution whose
kw_fit_matmul is asked about aligned and unaligned operands, "time": bool (cuda: time each
solution and the eager reference)}. Prints one JSON object: per solution max error and whether it
is within the check's tolerance (the problem's sidecar included), the split configs kw_fit_matmul keeps, and timings.
Kernel code runs only here, never in the pytest process (TRITON_INTERPRET=1 is set by the parent
on the CPU).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import torch

from kernelwright.tools.check.tolerance import load_tolerances
from kernelwright.tools.worker.numerics import precise_reference


def load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check(problem, path: str, device: str, timed: bool, tolerances) -> dict:
    torch.manual_seed(0)
    ref = problem.Model(*problem.get_init_inputs()).to(device)
    solution = load(path, f"kw_solution_{abs(hash(path))}")
    new = solution.ModelNew(*problem.get_init_inputs())
    new.load_state_dict(ref.state_dict())
    new = new.to(device)
    inputs = [x.to(device) for x in problem.get_inputs()]
    with torch.no_grad():
        with precise_reference():  # as the check computes reference outputs
            want = ref(*inputs)
        got = new(*inputs)
    atol, rtol, _ = tolerances.for_dtype(want.dtype)
    err = (got.float() - want.float()).abs()
    bad = err > atol + rtol * want.float().abs()
    out = {"solution": path, "max_abs_err": float(err.max()), "bad": int(bad.sum()), "ok": not bool(bad.any())}
    if bad.any():
        where = bad.reshape(-1, bad.shape[-1]).nonzero()
        out["bad_cols"] = sorted({int(c) for c in where[:, 1]})[:16]
        out["bad_rows"] = sorted({int(r) for r in where[:, 0]})[:16]
    if timed:
        from triton.testing import do_bench

        with torch.no_grad():
            out["ms"] = do_bench(lambda: new(*inputs))
            out["eager_ms"] = do_bench(lambda: ref(*inputs))
    return out


def pruned_splits(path: str) -> dict:
    """How many EPILOGUE_SPLIT=2 configs kw_fit_matmul keeps for aligned and for odd operands."""
    module = load(path, "kw_autotuned")
    configs = module.kw_matmul_kernel.configs
    out = {}
    for name, (m, k, n) in {"aligned": (16, 64, 48), "odd": (13, 37, 45)}.items():
        a = torch.empty(1, m, k, dtype=torch.bfloat16)
        b = torch.empty(1, n, k, dtype=torch.bfloat16).transpose(1, 2)  # a weight read transposed
        args = {"a_ptr": a, "b_ptr": b, "out_ptr": torch.empty(m, n, dtype=torch.bfloat16), "N": n, "K": k}
        kept = module.kw_fit_matmul(configs, args)
        out[name] = {"configs": len(kept), "split": sum(c.kwargs.get("EPILOGUE_SPLIT") == 2 for c in kept)}
    return out


def main() -> None:
    req = json.loads(open(sys.argv[1]).read())
    problem = load(req["problem"], "kw_problem")
    # The check's tolerances, a sidecar included, of the shipped problem (`problem` may be a resized copy).
    tolerances = load_tolerances(Path(req.get("tolerances_of") or req["problem"]))
    result = {"runs": [check(problem, p, req["device"], req.get("time", False), tolerances) for p in req["solutions"]]}
    if req.get("prune"):
        result["prune"] = pruned_splits(req["prune"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
