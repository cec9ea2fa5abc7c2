"""How the L2 flush before each timed call changes CUDA-event times (GPU only).

`check` times every call after a flush (tools/worker/timing.py, `L2Flush`). This script runs the
check's own loop (`timed_calls`: refill, flush, events around the call, the CPU running ahead) with
a write flush (zeroing 256 MiB, as Triton's do_bench does) and with a read flush (summing it), on
three subjects at 4096x4096 fp32: `torch.mul(x, 2)`, the gelu_scale example solution and its eager
reference. For each it prints the median event time and the median per-call kernel time from
torch.profiler over the same loop (what the events hold beyond the kernels: launch gaps, event
overhead). Compare with Nsight Compute (`benchmarks/profile_gpu.py`), which invalidates the caches
before each kernel.

    python benchmarks/flush_effect.py [--calls 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kernel_ms_per_call(prof, calls: int) -> float:
    skip = ("reduce_kernel", "FillFunctor", "Memcpy", "Memset")  # the flush's and the refill's
    total = sum(e.device_time for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA
                and not any(s in e.name for s in skip))
    return total / 1000.0 / calls


def main() -> None:
    from kernelwright.tools.worker.timing import L2Flush, timed_calls

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    device = torch.device("cuda")
    torch.manual_seed(0)
    x = torch.randn(4096, 4096, device=device)
    problem = load(ROOT / "examples" / "problems" / "gelu_scale.py", "kw_problem")
    solution = load(ROOT / "examples" / "solutions" / "gelu_scale.py", "kw_solution")
    init = problem.get_init_inputs()
    subjects = {
        "torch.mul(x, 2)": lambda t: torch.mul(t, 2.0),
        "gelu_scale solution": solution.ModelNew(*init).to(device),
        "gelu_scale eager": problem.Model(*init).to(device),
    }
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; {args.calls} calls per row")
    with torch.inference_mode():
        for name, model in subjects.items():
            for mode in ("write", "read"):
                flush = L2Flush(device, mode)
                pool = [[x]]
                buffers = [x.clone()]
                timed_calls(model, buffers, pool, flush, 20, 1e9, 20)  # warm-up (JIT compile)
                ms = timed_calls(model, buffers, pool, flush, args.calls, 1e9, args.calls)
                with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                    timed_calls(model, buffers, pool, flush, 50, 1e9, 50)
                kernel = kernel_ms_per_call(prof, 50)
                median = statistics.median(ms)
                print(f"{name:22s} flush {mode:5s}: event median {median * 1000:8.2f} us, min {min(ms) * 1000:8.2f} us; "
                      f"kernels {kernel * 1000:8.2f} us per call (profiler)", flush=True)
                del flush
    sys.exit(0)


if __name__ == "__main__":
    main()
