"""Is the protocol's tolerance reachable for a problem? The evidence behind a tolerance sidecar.

Runs the problem's reference as shipped, then a second, equally correct evaluation of the same
program: every matmul-type op (linear, matmul, mm, bmm, addmm, baddbmm) computed in float64 and
rounded once to its output dtype — the most exact result each intermediate can have, only the
summation order differs from the library's. Where that exact evaluation fails the comparison
against the reference, no kernel can be sure to pass: the tolerance is below the reference's own
rounding noise (typically a bf16 intermediate rounded before a cancelling add).

Prints, per size (shipped and the check's shape variant) and seed, how many output elements the
exact evaluation has out of tolerance under the protocol's defaults and under the problem's
sidecar (NAME.tolerance.json), if any, against two references: torch's defaults (cuBLAS may
reduce bf16/fp16 split-K partials in 16 bits, cuDNN may use TF32) and the check's reference
(`tools/worker/numerics.py`: those shortcuts off).

    python benchmarks/tolerance_floor.py examples/problems/linear_residual_bf16.py [--device cuda] [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode

from kernelwright.tools.check.compare import compare_values
from kernelwright.tools.check.tolerance import DEFAULT, load_tolerances
from kernelwright.tools.problem import load_problem, sized_for_device, variant_sizes, with_constants
from kernelwright.tools.worker.common import load_module, seed_everything
from kernelwright.tools.worker.numerics import precise_reference

F = torch.nn.functional
MATMULS = {F.linear, torch.matmul, torch.mm, torch.bmm, torch.addmm, torch.baddbmm, torch.Tensor.matmul,
           torch.Tensor.__matmul__, torch.Tensor.mm, torch.Tensor.bmm}


class ExactMatmuls(TorchFunctionMode):
    """Matmul-type ops in float64, rounded once to the dtype the op would have returned."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in MATMULS:
            return func(*args, **kwargs)
        # The mode is off inside this handler, so `func` below is the plain op.
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor) and a.is_floating_point()]
        out_dtype = tensors[0].dtype
        wide = [a.double() if isinstance(a, torch.Tensor) and a.is_floating_point() else a for a in args]
        wide_kw = {k: v.double() if isinstance(v, torch.Tensor) and v.is_floating_point() else v for k, v in kwargs.items()}
        return func(*wide, **wide_kw).to(out_dtype)


def run_once(source: str, path: Path, seed: int, device: str) -> dict[str, torch.Tensor]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(source)
        module = load_module(f"kw_floor_{seed}", str(copy))
    seed_everything(seed)
    inputs = [x.to(device) if isinstance(x, torch.Tensor) else x for x in module.get_inputs()]
    seed_everything(seed)
    model = module.Model(*module.get_init_inputs()).to(device).eval()
    with torch.no_grad():
        out = {"defaults": model(*inputs)}
        with precise_reference():
            out["check"] = model(*inputs)
        with ExactMatmuls():
            out["exact"] = model(*inputs)
    return {k: v.cpu() for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problem", type=Path)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--cpu-sizes", action="store_true", help="the problem's CPU_SIZES instead of its shipped sizes")
    args = ap.parse_args(argv)
    problem = load_problem(args.problem)
    sized = sized_for_device(problem, "cpu") if args.cpu_sizes else problem
    sidecar = load_tolerances(problem.path)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"{problem.name} on {name}, torch {torch.__version__}; sidecar: {sidecar.sidecar or 'none'}")
    sizes = {"shipped": sized.file.source, "variant": with_constants(sized.file.source, variant_sizes(sized.constants))}
    for label, source in sizes.items():
        for seed in range(args.seeds):
            outs = run_once(source, problem.path, seed, args.device)
            exact = outs["exact"]
            for ref_name in ("defaults", "check"):
                ref = outs[ref_name]
                err = float((exact.double() - ref.double()).abs().max())
                row = [f"{label:8s} seed {seed}, reference with {ref_name + ' numerics':17s}: {ref.numel()} elements, max abs err {err:.4g}"]
                for tag, tol in (("default tolerance", DEFAULT), ("sidecar", sidecar)):
                    if tag == "sidecar" and tol is DEFAULT:
                        continue
                    c = compare_values(exact, ref, "strict", tol)
                    atol, rtol, _ = tol.for_dtype(ref.dtype)
                    row.append(f"{tag} (atol {atol:g}): {c.message.split(' of ')[0] if c.message else 0} out")
                print("; ".join(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
