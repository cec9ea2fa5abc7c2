"""What the OS sandbox adds to a child and to a whole check: the same work with bubblewrap and
without it (KERNELWRIGHT_BWRAP=off), interleaved so that machine load hits both alike.

    python benchmarks/sandbox_overhead.py [--device cpu|cuda] [--rounds N] [--json OUT]

Rows: a bare child (`python -c pass`), a child importing torch and Triton, and a full
`kernelwright check` of examples/problems/gelu_scale.py (timed on a GPU). Medians in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import sys, time
from pathlib import Path
from kernelwright.tools.sandbox.child import run_child
work = Path(sys.argv[1]); (work / "kw_bench_child.py").write_text(sys.argv[2])
t = time.perf_counter(); r = run_child(["kw_bench_child"], work, timeout_s=600, device=sys.argv[3] or None)
assert r.returncode == 0, r.stderr
print(time.perf_counter() - t)
"""
BODIES = {"bare child": "pass", "torch + triton child": "import torch, triton"}


def child_seconds(body: str, sandbox: bool, device: str) -> float:
    env = {**os.environ, **({} if sandbox else {"KERNELWRIGHT_BWRAP": "off"})}
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, body, "cuda:0" if device == "cuda" else ""],
                             capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


def check_seconds(sandbox: bool, device: str) -> float:
    env = {**os.environ, **({} if sandbox else {"KERNELWRIGHT_BWRAP": "off"})}
    with tempfile.TemporaryDirectory() as home:
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "kernelwright", "check", str(ROOT / "examples/problems/gelu_scale.py"),
                               str(ROOT / "examples/solutions/gelu_scale.py"), "--device", device, "--json", "--home", home,
                               "--baselines", "eager"], capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - began
    result = json.loads(done.stdout)
    assert result.get("verdict") == "accepted", (result.get("reasons") or result.get("error"), done.stderr[-2000:])
    assert result["isolation"]["full"] is sandbox
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args()
    rows: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.rounds):
        for sandbox in (True, False):
            key = "bubblewrap" if sandbox else "no OS sandbox"
            for name, body in BODIES.items():
                rows.setdefault(name, {}).setdefault(key, []).append(child_seconds(body, sandbox, args.device))
            rows.setdefault(f"check ({args.device})", {}).setdefault(key, []).append(check_seconds(sandbox, args.device))
    summary = {name: {k: statistics.median(v) for k, v in by.items()} for name, by in rows.items()}
    for name, by in summary.items():
        added = by["bubblewrap"] - by["no OS sandbox"]
        print(f"{name:28s} bubblewrap {by['bubblewrap']:7.3f} s   none {by['no OS sandbox']:7.3f} s   added {added:+.3f} s")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"rounds": args.rounds, "device": args.device, "median_s": summary, "raw_s": rows}, indent=2))


if __name__ == "__main__":
    main()
