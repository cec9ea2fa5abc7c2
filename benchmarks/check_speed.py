"""How long one `check` takes, cold and warm, on the CPU or a GPU.

    python benchmarks/check_speed.py [--device cpu|cuda] [--warm N] [--json OUT] [PROBLEM SOLUTION]

Rows (wall seconds, with the check's own phases):
- cold CLI, empty home: a fresh `kernelwright check` process, nothing cached (baselines compiled
  and timed, peaks measured);
- cold CLI, cached home: a fresh process again, the home's baselines and peaks reused;
- warm: N more checks in one long-lived process (what `run` and `bench` do): the warm worker's
  zygote already has torch and Triton imported, baselines come from the home.
Default problem: examples/problems/gelu_scale.py with its shipped solution.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_check(problem: Path, solution: Path, device: str, home: Path, extra: tuple[str, ...] = (),
              env: dict[str, str] | None = None) -> dict:
    """One fresh `kernelwright check --json` process; its wall time, phases, trials and isolation."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "kernelwright", "check", str(problem), str(solution), "--device", device,
                           "--json", "--home", str(home), *extra], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - began
    result = json.loads(done.stdout)
    assert result.get("verdict") == "accepted", (result.get("reasons") or result.get("error"), done.stderr[-2000:])
    isolation = result.get("isolation") or {}
    # isolation_notes: whether the children were forked from the warm worker's zygote or started cold.
    return {"wall_s": wall, "phases": result.get("phases"), "trials": len(result.get("trials") or []),
            "isolation_full": isolation.get("full"), "isolation_notes": isolation.get("notes")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("problem", nargs="?", default=str(ROOT / "examples/problems/gelu_scale.py"))
    ap.add_argument("solution", nargs="?", default=str(ROOT / "examples/solutions/gelu_scale.py"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    problem, solution = Path(args.problem), Path(args.solution)
    from kernelwright.tools.check.verify import CheckOptions, verify_solution

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        rows = {"cold CLI, empty home": [cli_check(problem, solution, args.device, home)]}
        print("cold CLI, empty home", json.dumps(rows["cold CLI, empty home"][0]), flush=True)  # kept if the run is cut short
        rows["cold CLI, cached home"] = [cli_check(problem, solution, args.device, home)]
        print("cold CLI, cached home", json.dumps(rows["cold CLI, cached home"][0]), flush=True)
        opts = CheckOptions(device=args.device, home=home)
        warm = []
        for i in range(args.warm + 1):  # the first starts the zygote: not a warm figure
            began = time.perf_counter()
            result = verify_solution(problem, solution, opts)
            wall = time.perf_counter() - began
            assert result.accepted, result.reasons
            if i:
                warm.append({"wall_s": wall, "phases": result.phases, "isolation_full": (result.isolation or {}).get("full")})
                print("warm", json.dumps(warm[-1]), flush=True)
        rows["warm (in-process, cached home)"] = warm
    summary = {name: statistics.median(r["wall_s"] for r in runs) for name, runs in rows.items()}
    for name, seconds in summary.items():
        print(f"{name:34s} {seconds:7.2f} s  (n={len(rows[name])})")
    if args.json_out:
        import torch

        Path(args.json_out).write_text(json.dumps({"device": args.device, "problem": str(problem), "median_s": summary, "runs": rows,
                                                   "torch": torch.__version__,
                                                   "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
                                                  indent=2))


if __name__ == "__main__":
    main()
