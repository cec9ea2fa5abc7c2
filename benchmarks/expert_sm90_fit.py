"""Do the expert policy's GPU configurations fit an H100 (sm_90)? Runs on a CPU-only machine.

    python benchmarks/expert_sm90_fit.py [PROBLEM ...] [--space first|all] [--json]

For each problem (default: one or two per family from examples/problems), every config of the
chosen GPU spaces is generated at the shipped (GPU) sizes and compiled for sm_90 with the real
ptxas (agents/expert/static_fit.py): registers, spills, shared memory and whether tl.dot became
wgmma. A config with spills or a compile error is a bug in configs.py's spaces.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from kernelwright.agents.expert.configs import dedupe, spaces_for
from kernelwright.agents.expert.static_fit import fit_report
from kernelwright.agents.expert.tracing import trace_problem

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["linear_relu", "linear_gelu_bf16", "bmm_scale", "linear_residual_bf16", "gelu_scale", "softmax_rows",
           "layer_norm", "rms_norm_long"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problems", nargs="*", help="problem files (default: a few examples/problems per family)")
    ap.add_argument("--space", default="all", help="a space name (first, memory, compute, neighbours) or all")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    paths = [Path(p) for p in args.problems] or [ROOT / "examples" / "problems" / f"{n}.py" for n in DEFAULT]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kw-fit-") as tmp:
        for path in paths:
            if not path.exists():
                print(f"skip {path}: not found", file=sys.stderr)
                continue
            t = trace_problem(path)
            spaces = spaces_for(t)
            configs = dedupe([c for name, space in spaces.items() if args.space in ("all", name) for c in space])
            for entry in fit_report(t, path.read_text(), configs, Path(tmp) / path.stem):
                row = {"problem": path.stem, "family": t.family, "dtype": t.dtype, **{k: getattr(entry, k) for k in (
                    "config", "registers", "spills", "shared_bytes", "wgmma", "mma", "error")}}
                rows.append(row)
                if not args.json:
                    status = row["error"] or (f"regs {row['registers']:3d} spills {row['spills']} smem {row['shared_bytes'] // 1024:3d} KB "
                                              f"wgmma {row['wgmma']} mma {row['mma']}")
                    print(f"{row['problem']:22s} {row['config']:80s} {status}", file=sys.stderr, flush=True)
    bad = [r for r in rows if r["error"] or r["spills"]]
    if args.json:
        print(json.dumps({"rows": rows, "bad": len(bad)}))
    else:
        print(f"{len(rows)} configs compiled for sm_90; {len(bad)} with spills or errors", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
