"""What the L2 flush and the head start before each timed call do to CUDA-event times (GPU only).

`check` times every call after a flush and a head start (tools/worker/timing.py, `L2Flush`,
`HeadStart`). This script runs the check's own loop (`timed_calls`: refill, flush, events around
the call, the candidate process's call watch sampling every output) in three modes:

- `write`: zeroing 256 MiB (Triton's do_bench; the check until 2026-11-25),
- `read`: summing it (leaves no dirty lines for the timed kernel to write back),
- `read+head`: the read flush, then a spin kernel sized from the call's host time (the check now),

on four subjects: `torch.mul(x, 2)`, the gelu_scale example solution, its eager reference (all at
4096x4096 fp32) and the expert policy's autotuned 2-D-tile kernel for scale_shift_cols (three
inputs; its host dispatch is the heaviest). For each: the median event time and the median
per-call kernel time from torch.profiler over the same loop. Where the event time exceeds the
kernel time by much more than the ~3.5 us of an event pair, the host was the bottleneck.
Compare with Nsight Compute (`benchmarks/profile_gpu.py`).

    python benchmarks/flush_effect.py [--calls 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kernel_ms_per_call(prof, calls: int) -> float:
    skip = ("reduce_kernel", "FillFunctor", "Memcpy", "Memset", "spin_kernel", "index_select", "indexSelect")  # the loop's own
    total = sum(e.device_time for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA
                and not any(s in e.name for s in skip))
    return total / 1000.0 / calls


def expert_subject(name: str, device: torch.device):
    """The expert's autotuned GPU solution for a suite problem (its first space, as in a one-round
    run), built and loaded here, with its inputs."""
    from kernelwright.agents.expert.configs import spaces_for
    from kernelwright.agents.expert.solution import compile_problem
    from kernelwright.agents.expert.tracing import trace_problem

    path = ROOT / "examples" / "problems" / f"{name}.py"
    source, _ = compile_problem(path, spaces_for(trace_problem(path))["first"], device="cuda")
    folder = Path(tempfile.mkdtemp(prefix="kw-flush-"))
    (folder / "solution.py").write_text(source)
    problem, solution = load(path, f"kw_{name}_problem"), load(folder / "solution.py", f"kw_{name}_solution")
    torch.manual_seed(0)
    inputs = [t.to(device) for t in problem.get_inputs()]
    return solution.ModelNew(*problem.get_init_inputs()).to(device), inputs


def main() -> None:
    from kernelwright.tools.worker.call_prep import HeadStart, L2Flush
    from kernelwright.tools.worker.call_watch import CallWatch
    from kernelwright.tools.worker.timing import timed_calls

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
        "torch.mul(x, 2)": (lambda t: torch.mul(t, 2.0), [x]),
        "gelu_scale solution": (solution.ModelNew(*init).to(device), [x]),
        "gelu_scale eager": (problem.Model(*init).to(device), [x]),
        "scale_shift_cols expert": expert_subject("scale_shift_cols", device),
    }
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; {args.calls} calls per row")
    with torch.inference_mode():
        for name, (model, inputs) in subjects.items():
            for mode in ("write", "read", "read+head"):
                flush = L2Flush(device, mode.split("+")[0])
                pool = [inputs]
                buffers = [t.clone() for t in inputs]
                host: list[float] = []
                timed_calls(model, buffers, pool, flush, 20, 1e9, 20, host_s=host)  # warm-up (JIT, autotune)
                ahead = None
                if mode.endswith("+head"):
                    ahead = HeadStart(device)
                    ahead.cover(host)

                def watch():  # what the candidate's process samples around each timed call
                    return CallWatch(keep=3, ring=4, sample=256)

                ms = timed_calls(model, buffers, pool, flush, args.calls, 1e9, args.calls, watch(), head_start=ahead)
                with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
                    timed_calls(model, buffers, pool, flush, 50, 1e9, 50, watch(), head_start=ahead)
                kernel = kernel_ms_per_call(prof, 50)
                print(f"{name:24s} {mode:9s}: event median {statistics.median(ms) * 1000:8.2f} us, min {min(ms) * 1000:8.2f} us; "
                      f"kernels {kernel * 1000:8.2f} us per call (profiler); host {statistics.median(host[-10:]) * 1e6:7.1f} us per call"
                      + (f"; head start {ahead.seconds * 1e6:.0f} us" if ahead else ""), flush=True)
                del flush
    sys.exit(0)


if __name__ == "__main__":
    main()
