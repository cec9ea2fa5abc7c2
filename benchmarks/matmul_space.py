"""Every matmul tile the expert can emit, timed one at a time against eager (GPU only).

For each problem: the configs of all the expert's GPU spaces plus a few extra tiles, each as its
own generated solution (one config, no autotuning), checked against the reference and timed with
`triton.testing.do_bench` in a child process (tests/data/expert/run_configs.py), beside eager.
Which tile wins per shape is what the `first` space (the one a one-round run autotunes over)
should contain.

    python benchmarks/matmul_space.py [--out DIR] [problem names ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from kernelwright.agents.expert.configs import _mm, heavy_epilogue, spaces_for, split_heavy
from kernelwright.agents.expert.solution import generate
from kernelwright.agents.expert.tracing import trace_problem

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "examples" / "problems"
RUNNER = ROOT / "tests" / "data" / "expert" / "run_configs.py"
DEFAULT = ["linear_sigmoid_bf16", "bmm_gelu_bf16", "linear_gelu_bf16", "linear_residual_bf16"]
# Tiles outside the spaces worth a look for short K (1024) and wide N on sm_90.
EXTRA = [_mm(128, 256, 64, 8, 4), _mm(128, 256, 64, 8, 3, group_m=16), _mm(256, 128, 64, 8, 3, group_m=16),
         _mm(128, 128, 64, 4, 5), _mm(128, 128, 64, 8, 3), _mm(64, 256, 64, 4, 4),
         _mm(256, 128, 64, 8, 4), _mm(128, 256, 64, 4, 3)]


def configs_of(problem: Path):
    t = trace_problem(problem)
    spaced = [(name, c) for name, space in spaces_for(t).items() for c in space]
    heavy = heavy_epilogue(t)
    extra = [("extra", split_heavy(c) if heavy else c) for c in EXTRA]
    if heavy:  # the same big tiles without the split epilogue, to see what the split buys
        extra += [("nosplit", dataclasses.replace(c, epilogue_split=1)) for _, c in spaced if c.epilogue_split == 2]
    seen, out = set(), []
    for name, c in spaced + extra:
        if c not in seen:
            seen.add(c)
            out.append((name, c))
    return t, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("problems", nargs="*", default=DEFAULT)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    report = {}
    for name in args.problems:
        problem = PROBLEMS / f"{name}.py"
        t, configs = configs_of(problem)
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for i, (_, c) in enumerate(configs):
                path = Path(tmp) / f"{name}_{i}.py"
                path.write_text(generate(t, problem.read_text(), [c], "cuda"))
                paths.append(str(path))
            req = Path(tmp) / "req.json"
            req.write_text(json.dumps({"problem": str(problem), "device": "cuda", "solutions": paths, "time": True}))
            done = subprocess.run([sys.executable, str(RUNNER), str(req)], capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            print(f"{name}: runner failed: {done.stderr[-2000:]}", flush=True)
            continue
        runs = json.loads(done.stdout.strip().splitlines()[-1])["runs"]
        eager = min(r["eager_ms"] for r in runs)
        rows = sorted(zip(configs, runs), key=lambda cr: cr[1]["ms"])
        print(f"\n{name}: eager {eager * 1000:.1f} us (best of {len(runs)} measurements)", flush=True)
        for (space, c), r in rows:
            print(f"  {r['ms'] * 1000:8.1f} us  x{eager / r['ms']:.3f} eager  ok={r['ok']}  [{space}] {c.text('matmul')}", flush=True)
        report[name] = {"eager_ms": eager, "runs": [{"space": s, "config": c.text("matmul"), **r} for (s, c), r in rows]}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "matmul_space.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
