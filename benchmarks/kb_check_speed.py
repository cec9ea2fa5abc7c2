"""How long `kernelwright check` takes on KernelBench problems at their full sizes.

    python benchmarks/kb_check_speed.py --kernelbench PATH [--level 1] [--problems 19,23,36]
                                        [--device cuda] [--json OUT] [--budget-s S]

For each problem: the offline expert policy writes a solution (shape-generic Triton), then one
fresh `kernelwright check --json` process judges it (cold CLI; the home is shared across the
problems, so only the first pays the device-peak measurement), then one more check in this
process (warm: the worker's zygote has torch and Triton imported, the baselines are cached).
Rows are appended to OUT after every problem, so a run cut short keeps what finished; problems
left when --budget-s is spent are listed as not run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def write_solution(problem: Path, device: str, folder: Path) -> Path | str:
    from kernelwright.agents.expert.ir import UnsupportedProblem
    from kernelwright.agents.expert.solution import compile_problem

    try:
        source, _ = compile_problem(problem, device=device)
    except UnsupportedProblem as exc:
        return str(exc)
    path = folder / f"{problem.stem}_solution.py"
    path.write_text(source)
    return path


def cli_check(problem: Path, solution: Path, device: str, home: Path, timeout_s: float) -> dict:
    """One fresh `kernelwright check --json`; its progress lines kept with the second each came, so
    a check cut off by the time box still says how far it got."""
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kernelwright", "check", str(problem), str(solution), "--device", device,
                             "--json", "--home", str(home)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress: list[str] = []
    stdout: list[str] = []

    def follow() -> None:
        for line in proc.stderr:
            progress.append(f"{time.perf_counter() - began:7.1f}s {line.rstrip()[:300]}")

    readers = [threading.Thread(target=follow, daemon=True), threading.Thread(target=lambda: stdout.append(proc.stdout.read()), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return {"wall_s": round(time.perf_counter() - began, 2), "verdict": f"timed out after {timeout_s:.0f} s", "progress": progress[-12:]}
    for reader in readers:
        reader.join(10)
    text = "".join(stdout)
    out = json.loads(text) if text.strip() else {"verdict": "no output"}
    return {"wall_s": round(time.perf_counter() - began, 2), "verdict": out.get("verdict"), "phases": out.get("phases"),
            "median_ms": (out.get("timing") or {}).get("median_ms"), "speedup": out.get("speedup"),
            "reasons": [r.get("message", "")[:300] for r in out.get("reasons") or []][:2], "progress": progress[-12:],
            "trial_seconds": {t["case"]: t.get("seconds") for t in out.get("trials") or []}, "notes": out.get("notes")}


def warm_check(problem: Path, solution: Path, device: str, home: Path) -> dict:
    from kernelwright.tools.check.verify import CheckOptions, verify_solution

    began = time.perf_counter()
    result = verify_solution(problem, solution, CheckOptions(device=device, home=home))
    return {"wall_s": round(time.perf_counter() - began, 2), "verdict": result.verdict.value, "phases": result.phases}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernelbench", required=True, help="a KernelBench checkout (the folder holding KernelBench/level1)")
    ap.add_argument("--level", type=int, default=1)
    ap.add_argument("--problems", default="19,23,36", help="problem ids of the level, comma-separated")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", dest="json_out", default="kb_check_speed.json")
    ap.add_argument("--budget-s", type=float, default=600)
    args = ap.parse_args()
    from kernelwright.bench.kernelbench import level_folder

    folder = level_folder(Path(args.kernelbench), args.level)
    wanted = [w.strip() for w in args.problems.split(",") if w.strip()]
    files = {p.name.split("_", 1)[0]: p for p in folder.glob("*.py")}
    started, rows = time.monotonic(), []
    with tempfile.TemporaryDirectory() as tmp:
        home, scratch = Path(tmp) / "home", Path(tmp)
        for pid in wanted:
            problem = files.get(pid)
            left = args.budget_s - (time.monotonic() - started)
            row: dict = {"problem": problem.stem if problem else pid}
            if problem is None:
                row["skipped"] = "no such problem in the level"
            elif left < 30:
                row["skipped"] = "budget spent"
            else:
                solution = write_solution(problem, args.device, scratch)
                if isinstance(solution, str):
                    row["skipped"] = solution
                else:
                    row["cold_cli"] = cli_check(problem, solution, args.device, home, max(30.0, left - 10))
                    print(json.dumps(row), flush=True)  # before the warm check, which the caller's box may cut
                    Path(args.json_out).write_text(json.dumps({"device": args.device, "level": args.level, "rows": [*rows, row]}, indent=1))
                    if row["cold_cli"].get("verdict") == "accepted" and args.budget_s - (time.monotonic() - started) > 30:
                        row["warm"] = warm_check(problem, solution, args.device, home)
            rows.append(row)
            print(json.dumps(row), flush=True)
            Path(args.json_out).write_text(json.dumps({"device": args.device, "level": args.level, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
