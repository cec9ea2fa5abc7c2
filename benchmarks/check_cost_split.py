"""Where a GPU `check` spends its time: the same CLI check at two sizes, with and without the OS
sandbox, with the full trial protocol and with one trial, interleaved so load hits all alike.

    python benchmarks/check_cost_split.py [--device cuda] [--rounds N] [--budget-s S] [--json OUT]

Problem: examples/problems/gelu_scale.py with its shipped solution, at its shipped size (4096 x
4096 fp32) and at a tiny size (64 x 1000, a copy of the file with the two constants changed).
The home is shared and warmed first, so compiled baselines and peaks come from it. Each row is
printed as one JSON line as it ends (a run cut short keeps what finished).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from check_speed import cli_check  # this script's folder is on sys.path when it runs

ROOT = Path(__file__).resolve().parent.parent
PROBLEM = ROOT / "examples/problems/gelu_scale.py"
SOLUTION = ROOT / "examples/solutions/gelu_scale.py"
CONFIGS = {  # name: (tiny size, OS sandbox, extra CLI arguments)
    "tiny, sandbox": (True, True, ()),
    "tiny, no sandbox": (True, False, ()),
    "full, sandbox": (False, True, ()),
    "full, no sandbox": (False, False, ()),
    "full, sandbox, 1 trial": (False, True, ("--trials", "1", "--no-variants")),
}


def tiny_copy(folder: Path) -> Path:
    text = re.sub(r"^batch_size = \d+", "batch_size = 64", PROBLEM.read_text(), flags=re.M)
    text = re.sub(r"^dim = \d+", "dim = 1000", text, flags=re.M)
    path = folder / "gelu_scale.py"
    path.write_text(text)
    return path


def check(problem: Path, device: str, home: Path, sandbox: bool, extra: tuple[str, ...]) -> dict:
    env = {**os.environ, **({} if sandbox else {"KERNELWRIGHT_BWRAP": "off"})}
    row = cli_check(problem, SOLUTION, device, home, ("--baselines", "eager", *extra), env)
    return {**row, "wall_s": round(row["wall_s"], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--budget-s", type=float, default=400)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    began = time.monotonic()
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        home, tiny = folder / "home", tiny_copy(folder)
        warm_up = check(PROBLEM, args.device, home, True, ())
        print(json.dumps({"row": "warm-up (empty home)", **warm_up}), flush=True)
        for _ in range(args.rounds):
            for name, (small, sandbox, extra) in CONFIGS.items():
                if time.monotonic() - began > args.budget_s:
                    break
                row = check(tiny if small else PROBLEM, args.device, home, sandbox, extra)
                rows.setdefault(name, []).append(row)
                print(json.dumps({"row": name, **row}), flush=True)
    summary = {name: statistics.median(r["wall_s"] for r in got) for name, got in rows.items()}
    for name, median in summary.items():
        print(f"{name:28s} median {median:7.2f} s over {len(rows[name])}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"device": args.device, "median_wall_s": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
