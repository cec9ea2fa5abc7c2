"""One bench task in its own process: a full run of one problem (`graphs.runner.execute`), then
its result record, written atomically where the executor asked.

Usage (by the executor): python -m kernelwright.bench.worker REQUEST.json (a `WorkerRequest`)
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from kernelwright.bench.executor import WorkerRequest
from kernelwright.bench.records import BenchResult, failed_record, result_record
from kernelwright.bench.store import write_json_atomic

if TYPE_CHECKING:
    from kernelwright.agents.records import CheckFacts


def best_check(home: Path, run_id: str) -> CheckFacts | None:
    """The best attempt's check details (timing, roofline) from the run's last checkpoint: the
    summary and report.json do not carry % of speed of light."""
    import sqlite3
    from contextlib import closing

    from kernelwright.graphs.runner import checkpoint_saver
    from kernelwright.tools.sqlite import open_sqlite

    try:
        with closing(open_sqlite(home / "checkpoints.db")) as conn:
            found = checkpoint_saver(conn).get_tuple({"configurable": {"thread_id": run_id}})
    except sqlite3.Error:
        return None
    values = (found.checkpoint.get("channel_values") or {}) if found else {}
    best, profile = values.get("best"), values.get("profile")
    if best is None:
        return None
    check = best.check
    # On the CPU nothing is timed, so the check has no roofline; the profile node's has the peaks.
    if not check.roofline and profile is not None and profile.roofline is not None:
        check = check.model_copy(update={"roofline": dict(profile.roofline)})
    return check


def run_problem(req: WorkerRequest) -> BenchResult:
    from kernelwright.agents.records import Report
    from kernelwright.configs import merge
    from kernelwright.graphs.runner import RunRequest, execute
    from kernelwright.tools.problem import InputError

    name, home, began = req.name, Path(req.home), time.monotonic()
    overrides = merge(req.overrides, {"check": {"device": req.device}})

    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    say(f"run {name} on {req.device} (slot {req.slot})")
    try:
        summary = execute(RunRequest(problem=req.problem, home=home, config_path=req.config_path,
                                     overrides=overrides, out=req.out, progress=say))
    except InputError as exc:
        return failed_record(name, req.problem, req.device, "bad_input", str(exc), 2, time.monotonic() - began)
    report_path = Path(summary.run_dir) / "report.json"
    report = Report.model_validate_json(report_path.read_text()) if report_path.exists() else None
    check = best_check(home, summary.run_id) if summary.accepted else None
    result = result_record(name, req.problem, req.device, summary, report, check, time.monotonic() - began)
    say(f"done: accepted={result.accepted} verdict={result.verdict} speedup={result.speedup}"
        + (f" unsupported: {result.unsupported}" if result.unsupported else ""))
    return result


def _end_children(signum: int, frame: FrameType | None) -> None:
    """On SIGTERM/SIGINT, end the sandboxed children this worker started (each leads its own
    process group, so a signal to the bench's group does not reach them), then exit."""
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:  # field 4 of /proc/PID/stat: the parent's pid
            try:
                os.killpg(int(stat.parent.name), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _end_children)
    req = WorkerRequest.model_validate_json(Path(argv[0]).read_text())
    began = time.monotonic()
    try:
        result = run_problem(req)
    except Exception:  # noqa: BLE001 - a fault in kernelwright itself: recorded, the bench goes on
        traceback.print_exc()
        error = "kernelwright raised " + traceback.format_exc().strip().splitlines()[-1] + " (see worker.log)"
        result = failed_record(req.name, req.problem, req.device, "crashed", error, wall_s=time.monotonic() - began)
    write_json_atomic(Path(req.result_path or "result.json"), result)  # the executor always names it
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
