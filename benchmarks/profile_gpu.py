"""Benchmark of `kernelwright profile` on a GPU: does Nsight Compute's duration agree with `check`?

For each problem (resized to GPU sizes, as benchmarks/check_gpu.py does) and for both the Triton
solution and the eager reference: `check --json` (the candidate's median, and the reference's
eager median), `profile --json` (tier 1: ncu's kernel duration per call), `profile --tier 2`
(timeline: CUDA-event median and kernel time) and, for the solution, `profile --tier 3`. Prints
a Markdown table (the issue asks for ncu within 10% of check's event timing) and writes
profile_gpu.json / profile_gpu.md to --out. Pass the --home that check_gpu.py used to reuse its
cached torch.compile baselines and device peaks.
Usage: python benchmarks/profile_gpu.py [--out DIR] [--home DIR] [--only NAME ...] [--check-args '...']
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_gpu import _f, resized  # noqa: E402 - the same resizing and number format as the check benchmark

ROOT = Path(__file__).resolve().parent.parent
CASES = [("gelu_scale", {"batch_size": 4096, "dim": 4096}), ("softmax_rows", {"batch_size": 4096, "dim": 4096})]
AGREEMENT = 0.10


def kw(args: list[str], home: Path) -> tuple[dict, float, int]:
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kernelwright", *args, "--json", "--home", str(home)],
                          capture_output=True, text=True, cwd=tempfile.gettempdir())  # not the repo root: it would shadow the install
    wall = time.monotonic() - began
    try:
        return json.loads(proc.stdout), wall, proc.returncode
    except json.JSONDecodeError:
        return {"error": proc.stderr[-3000:]}, wall, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--home", default=None)
    ap.add_argument("--only", nargs="*", help="problem names to run")
    ap.add_argument("--check-args", default="", help="extra arguments for check, e.g. '--baselines eager' (only eager is compared)")
    args = ap.parse_args()
    out = Path(args.out)
    home = Path(args.home or tempfile.mkdtemp(prefix="kw-home-"))
    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, sizes) in enumerate(CASES):
            if args.only and name not in args.only:
                continue
            folder = Path(tmp) / str(index)
            folder.mkdir()
            problem = resized(ROOT / "examples" / "problems" / f"{name}.py", sizes, folder)
            solution = ROOT / "examples" / "solutions" / f"{name}.py"
            check, check_wall, _ = kw(["check", str(problem), str(solution), *args.check_args.split()], home)
            timing = check.get("timing") or {}
            medians = {"solution": (timing.get("candidate") or {}).get("median_ms"),
                       "reference": ((timing.get("eager") or {}).get("before") or {}).get("median_ms")}
            for subject in ("solution", "reference"):
                target = [str(solution)] if subject == "solution" else ["--reference"]
                t1, wall1, rc1 = kw(["profile", str(problem), *target], home)
                t2, wall2, rc2 = kw(["profile", str(problem), *target, "--tier", "2"], home)
                t3, wall3, rc3 = kw(["profile", str(problem), *target, "--tier", "3"], home) if subject == "solution" else ({}, 0.0, None)
                raw.append({"problem": name, "sizes": sizes, "subject": subject, "check_median_ms": medians[subject],
                            "check_verdict": check.get("verdict"), "check_wall_s": check_wall,
                            "tier1": {"rc": rc1, "wall_s": wall1, "profile": t1},
                            "tier2": {"rc": rc2, "wall_s": wall2, "profile": t2},
                            "tier3": {"rc": rc3, "wall_s": wall3, "profile": t3}})
                ncu_ms = (t1.get("metrics") or {}).get("duration_ms") if t1.get("tier") == 1 else None
                m2 = t2.get("metrics") or {}
                ref = medians[subject]
                diff = (ncu_ms - ref) / ref if ncu_ms and ref else None
                agree = "-" if diff is None else ("yes" if abs(diff) <= AGREEMENT else "NO")
                roof = t1.get("roofline") or {}
                rows.append(
                    f"| {name} {'x'.join(map(str, sizes.values()))} | {subject} | {_f(ref)} | {_f(ncu_ms)} | {_pct(diff)} | {agree} | "
                    f"{_f(m2.get('event_ms'))} | {_f(m2.get('kernel_ms'))} | {_f(roof.get('t_sol_ms'))} | {_f(roof.get('pct_of_sol'), 1)} | "
                    f"{t1.get('tier')}/{t2.get('tier')}/{t3.get('tier', '-')} | {wall1:.0f}/{wall2:.0f}/{wall3:.0f} |"
                )
                print(rows[-1], flush=True)
                print(f"   tier 1 diagnosis: {t1.get('diagnosis') or t1.get('error')}", file=sys.stderr)
                print(f"   tier 1 missing: {t1.get('missing')}", file=sys.stderr)
    (out / "profile_gpu.json").write_text(json.dumps(raw, indent=2, default=str))
    header = ("| problem | subject | check median ms | ncu duration ms | ncu vs check | within 10% | timeline event ms | "
              "timeline kernel ms | SoL ms | % SoL (ncu) | tiers run (1/2/3) | wall s (1/2/3) |\n" + "|---" * 12 + "|")
    table = header + "\n" + "\n".join(rows)
    (out / "profile_gpu.md").write_text(table + "\n")
    print(table)
    return 0


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:+.1f}%"


if __name__ == "__main__":
    sys.exit(main())
