"""Benchmark of `kernelwright check` on a GPU: medians, noise floor, % of speed of light, and where
the wall time goes (the check's `phases`).

Runs the real CLI (`python -m kernelwright check --json`) on example problems at small sizes
(launch-bound: the wall time is the check's own overhead) and at their shipped GPU sizes. A
problem's first run compiles and times the selected torch.compile baselines; "cached" runs reuse
them from the home directory. Prints a Markdown table and writes check_gpu.json / check_gpu.md.

Usage: python benchmarks/check_gpu.py [--out DIR] [--home DIR] [--sizes small|large|all] [--only NAME ...]
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
SMALL = {"gelu_scale": {"batch_size": 64, "dim": 1000}, "softmax_rows": {"batch_size": 32, "dim": 300}}
# (problem, constants to override ({} = the shipped GPU sizes), runs: (label, extra CLI args, home)).
# Runs of one problem share a home unless they name another ("fresh-..."), so "cached" reuses
# the baselines its "first" run compiled.
CASES = [
    ("gelu_scale", SMALL["gelu_scale"], [("first", [], "main"), ("cached", [], "main"), ("cached", [], "main"),
                                         ("first, --baselines eager,compile", ["--baselines", "eager,compile"], "fresh-1"),
                                         ("first, --baselines eager", ["--baselines", "eager"], "fresh-2")]),
    ("softmax_rows", SMALL["softmax_rows"], [("first", [], "main"), ("cached", [], "main")]),
    ("gelu_scale", {}, [("first", [], "main"), ("cached", [], "main")]),
    ("softmax_rows", {}, [("first", [], "main")]),
    ("layer_norm", {}, [("first", [], "main")]),
    ("linear_relu", {"batch_size": 2048, "in_features": 2048, "out_features": 2048}, [("first", [], "main")]),
]
PHASES = [("reference", "ref"), ("candidate", "checked"), ("timing:eager", "eager x2"), ("timing:candidate", "timed"),
          ("timing:compile_baselines", "baselines"), ("timing:guards", "guards")]


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


def row(name: str, label: str, attempt: str, result: dict, wall: float) -> str:
    t = result.get("timing") or {}
    roof = result.get("roofline") or {}
    phases = result.get("phases") or {}

    def median(stats):
        return (stats or {}).get("median_ms") if isinstance(stats, dict) else None

    cells = [
        f"{name} {label}", attempt, result.get("verdict", "error"),
        _f(median(t.get("candidate"))), _f(median((t.get("eager") or {}).get("before"))),
        _f(median(t.get("compile"))), _f(median(t.get("compile_max_autotune"))),
        _pct(t.get("noise_floor")), _f(roof.get("t_sol_ms")), _f(roof.get("pct_of_sol"), 1),
        f"{wall:.1f}", *(_f(phases.get(key), 1) for key, _ in PHASES),
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--home", default=None, help="home directory of the 'main' runs (default: a fresh one)")
    ap.add_argument("--only", nargs="*", help="problem names to run")
    ap.add_argument("--sizes", choices=["small", "large", "all"], default="all", help="small (launch-bound) sizes, the shipped GPU sizes, or both")
    args = ap.parse_args()
    out = Path(args.out)
    homes = {"main": Path(args.home or tempfile.mkdtemp(prefix="kw-home-"))}
    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, sizes, runs) in enumerate(CASES):
            small = sizes == SMALL.get(name)
            if (args.only and name not in args.only) or (args.sizes == "small" and not small) or (args.sizes == "large" and small):
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
            for attempt, extra, home_name in runs:
                home = homes.setdefault(home_name, Path(tempfile.mkdtemp(prefix=f"kw-home-{home_name}-")))
                result, wall, rc = run_check(problem, solution, home, extra)
                raw.append({"problem": name, "sizes": sizes, "attempt": attempt, "args": extra, "wall_s": wall, "rc": rc, "result": result})
                rows.append(row(name, label, attempt, result, wall))
                print("   phases:", result.get("phases"), "speedup:", result.get("speedup"), "reasons:", result.get("reasons"), file=sys.stderr)
                print(rows[-1], flush=True)
    (out / "check_gpu.json").write_text(json.dumps(raw, indent=2, default=str))
    names = ["problem (sizes)", "run", "verdict", "candidate ms", "eager ms", "compile ms", "max-autotune ms", "noise", "SoL ms", "% SoL",
             "wall s", *(f"{short} s" for _, short in PHASES)]
    header = "| " + " | ".join(names) + " |\n|" + "---|" * len(names)
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
