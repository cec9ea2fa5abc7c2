"""Orchestration overhead per graph step: wall time of a run minus the time spent inside nodes,
divided by the number of steps. Covers LangGraph, the SQLite checkpointer and the trace store;
excludes LLM and check time (nodes' own durations, as the trace records them).

Usage: python benchmarks/graph_overhead.py [--rounds N]  (CPU; roles from tests/kw_test_roles.py)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from kernelwright.graphs.runner import RunRequest, execute  # noqa: E402
from kernelwright.graphs.traces.store import TraceStore  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        markers = str(tmp / "markers")
        honest = str(ROOT / "examples" / "solutions" / "gelu_scale.py")
        config = {
            "roles": {
                "planner": {"impl": "kw_test_roles:planner", "options": {"marker_dir": markers}},
                "coder": {"impl": "kw_test_roles:coder", "options": {"marker_dir": markers, "sources": [honest]}},
                "debugger": {"impl": "kw_test_roles:debugger", "options": {"marker_dir": markers, "fix": honest}},
                "analyst": {"impl": "kw_test_roles:analyst", "options": {"marker_dir": markers}},
            },
            "budgets": {"max_iters": args.rounds, "patience": args.rounds + 1},
            "check": {"device": "cpu", "trials": 1, "variants": False, "static_resources": False},
        }
        path = tmp / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        began = time.monotonic()
        summary = execute(RunRequest(problem=str(ROOT / "examples" / "problems" / "gelu_scale.py"), home=tmp / "home",
                                     config_path=str(path), progress=lambda message: None))  # as the CLI: progress on
        wall = time.monotonic() - began
        steps = TraceStore(tmp / "home" / "traces.db").steps(summary.run_id)
    inside = sum(s["duration_s"] for s in steps)
    per_step = (wall - inside) / len(steps)
    non_check = [s["duration_s"] for s in steps if s["node"] != "check"]
    print(f"steps: {len(steps)}; run wall {wall:.2f} s; inside nodes {inside:.2f} s")
    print(f"orchestration overhead per step: {per_step * 1000:.1f} ms")
    print(f"median duration of the scripted role and profile/finish nodes: {statistics.median(non_check) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
