"""Benchmark of `kernelwright check` on a GPU: medians, noise floor, % of speed of light, wall time.

Runs the real CLI (`python -m kernelwright check --json`) on example problems resized to GPU
sizes, twice per problem (the second run reuses the cached torch.compile baselines), and prints
a Markdown table. Usage: python benchmarks/check_gpu.py [--out DIR] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kernelwright.tools.problem import load_problem, with_constants

ROOT = Path(__file__).resolve().parent.parent
# (problem, constants to override ({} = the shipped small sizes), runs). A second run of the
# same problem reuses the cached torch.compile baselines.
CASES = [
    ("gelu_scale", {}, 2),
    ("softmax_rows", {}, 1),
    ("layer_norm", {}, 1),
    ("add_mul", {}, 1),
    ("linear_relu", {}, 1),
    ("gelu_scale", {"batch_size": 4096, "dim": 4096}, 1),
    ("softmax_rows", {"batch_size": 4096, "dim": 4096}, 1),
    ("layer_norm", {"batch_size": 4096, "dim": 4096}, 1),
    ("linear_relu", {"batch_size": 2048, "in_features": 2048, "out_features": 2048}, 1),
]


def resized(problem: Path, sizes: dict[str, int], folder: Path) -> Path:
    p = load_problem(problem)
    known = {k: v for k, v in sizes.items() if k in p.constants}
    out = folder / problem.name
    out.write_text(with_constants(p.file.source, known))
    return out


def run_check(problem: Path, solution: Path, home: Path, extra: list[str]) -> tuple[dict, float, int]:
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "kernelwright", "check", str(problem), str(solution), "--json", "--home", str(home), *extra],
        capture_output=True, text=True, cwd=tempfile.gettempdir(),  # not the repo root: its kernelwright/ would shadow the install
    )
    wall = time.monotonic() - began
    try:
        return json.loads(proc.stdout), wall, proc.returncode
    except json.JSONDecodeError:
        return {"error": proc.stderr[-2000:]}, wall, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--home", default=None)
    ap.add_argument("--only", nargs="*", help="problem names to run")
    ap.add_argument("--sizes", choices=["small", "large", "all"], default="all", help="shipped sizes, GPU sizes or both")
    args = ap.parse_args()
    out = Path(args.out)
    home = Path(args.home or tempfile.mkdtemp(prefix="kw-home-"))
    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, sizes, runs) in enumerate(CASES):
            if (args.only and name not in args.only) or (args.sizes == "small" and sizes) or (args.sizes == "large" and not sizes):
                continue
            problem_src = ROOT / "examples" / "problems" / f"{name}.py"
            solution = ROOT / "examples" / "solutions" / f"{name}.py"
            if not problem_src.exists() or not solution.exists():
                print(f"skip {name}: missing files", file=sys.stderr)
                continue
            folder = Path(tmp) / str(index)
            folder.mkdir()
            problem = resized(problem_src, sizes, folder)
            label = "x".join(str(v) for v in load_problem(problem).constants.values())
            for attempt in ("first", "cached")[:runs]:
                result, wall, rc = run_check(problem, solution, home, [])
                raw.append({"problem": name, "sizes": sizes, "attempt": attempt, "wall_s": wall, "rc": rc, "result": result})
                t = result.get("timing") or {}
                cand = (t.get("candidate") or {}).get("median_ms")
                eager = ((t.get("eager") or {}).get("before") or {}).get("median_ms")
                comp = (t.get("compile") or {}).get("median_ms")
                mat = (t.get("compile_max_autotune") or {}).get("median_ms")
                roof = result.get("roofline") or {}
                rows.append(
                    f"| {name} {label} | {attempt} | {result.get('verdict', 'error')} | {_f(cand)} | {_f(eager)} | {_f(comp)} | {_f(mat)} | "
                    f"{_pct(t.get('noise_floor'))} | {_f(roof.get('t_sol_ms'))} | {_f(roof.get('pct_of_sol'), 1)} | {wall:.1f} |"
                )
                print("   phases:", result.get("phases"), "speedup:", result.get("speedup"), file=sys.stderr)
                print(rows[-1], flush=True)
    (out / "check_gpu.json").write_text(json.dumps(raw, indent=2, default=str))
    header = "| problem | run | verdict | candidate ms | eager ms | compile ms | max-autotune ms | noise | SoL ms | % SoL | wall s |\n|---|---|---|---|---|---|---|---|---|---|---|"
    table = header + "\n" + "\n".join(rows)
    (out / "check_gpu.md").write_text(table + "\n")
    print(table)
    return 0


def _f(x, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
