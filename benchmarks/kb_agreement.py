"""Do KernelBench's own judge and kernelwright's agree on the kernels of a kernelwright bench run?

    python benchmarks/kb_agreement.py --kernelbench PATH --run RUN_FOLDER [--problems 19,23] [--json OUT]
                                      [--budget-s S] [--correct-trials 5] [--perf-trials 100] [--kernel-timeout-s 300]

RUN_FOLDER is the KernelBench-style folder a bench writes (`<bench>/kernelbench`: kernel files and
eval_results.json, bench/kernelbench.py). Each kernel is judged again by KernelBench's harness
(<checkout>/src/kernelbench) as its scripts/run_and_check.py does (5 correctness trials, 100 timed
trials, cuda_event timing, speedup = eager reference mean / kernel mean), with backend="triton" and
fp32, in a fresh process per kernel: the harness runs the kernel in its own process and a CUDA error
poisons a process. Rows are appended to OUT after every kernel, so a run cut short keeps what
finished; kernels left when --budget-s is spent are listed as not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import NoReturn

# Units: KernelExecResult's field comments say runtime/ref_runtime are "in us", but every value comes
# from kernelbench/timing.py, whose timing functions return CUDA-event milliseconds and whose
# get_timing_stats says "all timing are in ms" (mean rounded to 3 significant figures); so are
# measure_ref_program_time()["mean"] and our eval_results.json (median ms). No conversion is needed.


@dataclasses.dataclass
class Ours:
    correct: bool | None
    runtime_ms: float | None
    ref_runtime_ms: float | None
    speedup: float | None


@dataclasses.dataclass
class Theirs:
    compiled: bool | None = None
    correct: bool | None = None
    runtime_ms: float | None = None
    ref_eager_ms: float | None = None
    speedup: float | None = None
    errors: dict[str, str] = dataclasses.field(default_factory=dict)  # metadata's error entries, cut short
    excessive_speedup: bool = False  # the harness's own >10x reward-hacking flag
    wall_s: float | None = None
    failure: str | None = None  # no verdict for lack of means (no CUDA, no harness, budget): neither agrees nor not


@dataclasses.dataclass
class Row:
    kernel: str  # the run folder's file name
    level: int
    problem: int
    problem_file: str | None
    ours: Ours
    theirs: Theirs | None = None
    agree_correct: bool | None = None
    speedup_ratio: float | None = None  # theirs / ours
    not_run: str | None = None


def judge_one(src: Path, problem: Path, kernel: Path, correct_trials: int, perf_trials: int) -> Theirs:
    """KernelBench's verdict on one kernel (runs in the `--one` child)."""
    began = time.perf_counter()
    sys.path.insert(0, str(src))
    for name, attr in (("litellm", "completion"), ("openai", "OpenAI")):
        # kernelbench/utils.py imports these LLM clients at the top but evaluation never calls them.
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
            setattr(sys.modules[name], attr, None)
    try:
        import torch
        from kernelbench.eval import eval_kernel_against_ref
        from kernelbench.timing import measure_ref_program_time
    except Exception as exc:
        return Theirs(failure=f"cannot import KernelBench's harness from {src}: {exc!r}")
    if not torch.cuda.is_available():
        return Theirs(failure="no CUDA device")
    ref_src, device = problem.read_text(), torch.device("cuda:0")
    result = eval_kernel_against_ref(ref_src, kernel.read_text(), num_correct_trials=correct_trials, num_perf_trials=perf_trials,
                                     measure_performance=True, timing_method="cuda_event", device=device,
                                     backend="triton", precision=torch.float32)
    if result is None:  # the harness's "lock file error during compilation, please retry"
        return Theirs(failure="harness returned None (compile lock error)", wall_s=round(time.perf_counter() - began, 2))
    eager = measure_ref_program_time(problem.stem, ref_src, num_trials=perf_trials, timing_method="cuda_event",
                                     use_torch_compile=False, device=device, precision="fp32")
    meta = result.metadata
    errors = {k: str(v)[:400] for k, v in meta.items() if "error" in k or "issue" in k or "difference" in k}
    runtime = result.runtime if result.runtime > 0 else None
    ref = eager.get("mean") if eager else None
    return Theirs(compiled=result.compiled, correct=result.correctness, runtime_ms=runtime, ref_eager_ms=ref,
                  speedup=ref / runtime if runtime and ref else None, errors=errors,
                  excessive_speedup=bool(meta.get("excessive_speedup")), wall_s=round(time.perf_counter() - began, 2))


def one_main(argv: list[str]) -> None:
    src, problem, kernel, correct_trials, perf_trials = argv
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the harness prints freely (also from C); only our one JSON line goes to the real stdout
    try:
        theirs = judge_one(Path(src), Path(problem), Path(kernel), int(correct_trials), int(perf_trials))
    except Exception as exc:  # as KernelBench's eval_from_generations.py: an escaping exception fails the kernel
        theirs = Theirs(compiled=False, correct=False, errors={"error": f"harness raised {exc!r}"[:600]})
    out.write(json.dumps(dataclasses.asdict(theirs)) + "\n")
    out.flush()


def run_child(src: Path, problem: Path, kernel: Path, args: argparse.Namespace, timeout_s: float) -> Theirs:
    cmd = [sys.executable, __file__, "--one", str(src), str(problem), str(kernel), str(args.correct_trials), str(args.perf_trials)]
    # Its own session, so a timeout kills any compiler processes it started too, not only the child.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        if timeout_s < args.kernel_timeout_s:  # cut by --budget-s, not by the kernel's own time box
            return Theirs(failure=f"budget spent after {timeout_s:.0f} s of this kernel")
        # KernelBench's eval_from_generations.py fails a kernel whose evaluation times out (its limit: 180 s).
        return Theirs(compiled=False, correct=False, errors={"error": f"timed out after {timeout_s:.0f} s"}, wall_s=round(timeout_s, 2))
    lines = stdout.strip().splitlines()
    try:
        return Theirs(**json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError):  # died without its line (segfault, CUDA abort): failed, as theirs does
        return Theirs(compiled=False, correct=False, errors={"error": f"exit {proc.returncode}: {stderr.strip()[-600:]}"})


def summarize(rows: list[Row]) -> dict:
    judged = [r for r in rows if r.agree_correct is not None]
    ratios = [r.speedup_ratio for r in rows if r.speedup_ratio is not None]
    return {"kernels": len(rows), "judged": len(judged), "agree_correct": sum(r.agree_correct for r in judged),
            "median_speedup_ratio": round(statistics.median(ratios), 3) if ratios else None,
            "disagreements": [{"kernel": r.kernel, "problem": r.problem_file, "ours_correct": r.ours.correct, "theirs_correct": r.theirs.correct,
                               "errors": r.theirs.errors} for r in judged if not r.agree_correct and r.theirs],
            "not_judged": {r.kernel: r.not_run or (r.theirs and r.theirs.failure) or "not in eval_results.json"
                           for r in rows if r.agree_correct is None}}


def machine(checkout: Path) -> dict:
    import torch
    import triton

    commit = None
    if (checkout / ".git").exists():  # `git -C` alone would answer with an enclosing repository's commit
        commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or None
    return {"gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "torch": torch.__version__,
            "triton": triton.__version__, "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "kernelbench_commit": commit}


def fail(message: str) -> NoReturn:
    print(f"kb_agreement: {message}", file=sys.stderr)
    sys.exit(2)


def main() -> None:
    if sys.argv[1:2] == ["--one"]:  # hidden child mode: src problem kernel correct_trials perf_trials
        return one_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--kernelbench", required=True, help="a KernelBench checkout (holding KernelBench/level1 and src/kernelbench)")
    ap.add_argument("--run", required=True, help="a KernelBench-style run folder: <bench folder>/kernelbench")
    ap.add_argument("--problems", help="problem numbers and ranges, e.g. 1-20,23 (default: every kernel in the folder)")
    ap.add_argument("--json", dest="json_out", default="kb_agreement.json")
    ap.add_argument("--budget-s", type=float, default=3600)
    ap.add_argument("--correct-trials", type=int, default=5)
    ap.add_argument("--perf-trials", type=int, default=100)
    ap.add_argument("--kernel-timeout-s", type=float, default=300)
    args = ap.parse_args()
    from kernelwright.bench import kernelbench as kb
    from kernelwright.tools.problem import InputError

    checkout, run = Path(args.kernelbench).expanduser(), Path(args.run).expanduser()
    src = checkout / "src"
    # Everything is checked before anything is written: bad input leaves no JSON behind.
    if not (src / "kernelbench" / "eval.py").is_file():
        fail(f"--kernelbench {checkout}: no src/kernelbench/eval.py there; give the root of a KernelBench checkout")
    if not run.is_dir():
        fail(f"--run {run}: no such folder; give the kernelbench/ folder of a `kernelwright bench` run")
    if not (run / "eval_results.json").is_file():
        fail(f"--run {run}: no eval_results.json there; give the kernelbench/ folder a bench report writes")
    try:
        claims = kb.read_claims(run)
        wanted = set(kb.parse_ids(args.problems)) if args.problems else None
        kernels = [k for k in kb.kernel_files(run) if wanted is None or k.problem in wanted]
        folders = {k.level: kb.level_folder(checkout, k.level) for k in kernels}
    except InputError as exc:
        fail(str(exc))
    if not kernels:
        fail(f"--run {run}: no level_L_problem_P_sample_S_kernel.py files" + (f" for --problems {args.problems}" if wanted else ""))
    info, rows = machine(checkout), []
    config = {"kernelbench": str(checkout), "run": str(run), "correct_trials": args.correct_trials, "perf_trials": args.perf_trials,
              "timing_method": "cuda_event", "backend": "triton", "precision": "fp32"}
    started = time.monotonic()
    for kernel in kernels:
        claim = claims.get((kernel.problem, kernel.sample)) or kb.Claim()  # no entry: our verdict unknown
        problem = kb.problem_file(folders[kernel.level], kernel.problem)
        row = Row(kernel.path.name, kernel.level, kernel.problem, problem.name if problem else None,
                  Ours(claim.correct, claim.runtime, claim.ref_runtime, claim.speedup))
        left = args.budget_s - (time.monotonic() - started)
        if problem is None:
            row.not_run = f"no problem {kernel.problem} in {folders[kernel.level]}"
        elif left < 30:
            row.not_run = "budget spent"
        else:
            row.theirs = run_child(src, problem, kernel.path, args, min(args.kernel_timeout_s, left))
            if row.theirs.correct is not None and row.ours.correct is not None:
                row.agree_correct = bool(row.theirs.correct) == bool(row.ours.correct)
            if row.theirs.speedup and row.ours.speedup:
                row.speedup_ratio = round(row.theirs.speedup / row.ours.speedup, 4)
        rows.append(row)
        print(json.dumps(dataclasses.asdict(row)), flush=True)
        Path(args.json_out).write_text(json.dumps({"machine": info, "config": config, "rows": [dataclasses.asdict(r) for r in rows],
                                                   "summary": summarize(rows)}, indent=1))
    summary = summarize(rows)
    print(f"{summary['judged']} of {summary['kernels']} kernels judged; correctness agrees on {summary['agree_correct']}; "
          f"median speedup ratio (theirs/ours) {summary['median_speedup_ratio']}; "
          f"{len(summary['disagreements'])} disagreement(s), {len(summary['not_judged'])} not judged; rows in {args.json_out}")
    for item in summary["disagreements"]:
        print(f"  disagree: {item['problem']} ({item['kernel']}): ours {item['ours_correct']}, theirs {item['theirs_correct']} {item['errors']}")


if __name__ == "__main__":
    main()
