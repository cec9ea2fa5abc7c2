"""`kernelwright audit RUN_FOLDER --kernelbench PATH`: re-judge someone else's KernelBench kernels
with the strict check and say which of their "correct" and "faster" claims hold.

The field's published speedups have failed exactly here (outputs cached across calls, work on
another stream, inputs the kernel was tuned to), so every kernel is checked as our own candidates
are: sandboxed, secret seeds, shape variants, guards; on a GPU, timed against eager.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

from kernelwright.bench.kernelbench import (
    Claim,
    KernelFile,
    kernel_files,
    level_folder,
    problem_file,
    read_claims,
)
from kernelwright.tools.problem import InputError

# How a claim fares: held (our check agrees), refuted (it does not), unchecked (no claim, or
# nothing we could measure here, e.g. speed on the CPU).
HELD, REFUTED, UNCHECKED = "held", "refuted", "unchecked"


@dataclasses.dataclass(frozen=True)
class AuditRequest:
    run_folder: Path
    kernelbench: Path
    device: str = "auto"
    problems: tuple[int, ...] = ()  # empty: every kernel of the folder
    home: Path | None = None
    timeout_s: float = 300.0
    progress: Callable[[str], None] | None = None


@dataclasses.dataclass(frozen=True)
class AuditRecord:
    """One kernel: what its eval record claimed, what our check found, and whether each claim holds."""
    kernel: str
    level: int
    problem: int
    sample: int
    problem_file: str | None
    claimed_correct: bool | None
    claimed_speedup: float | None
    verdict: str  # our check's verdict, or "no_problem" / "invalid_kernel"
    reason: str | None  # the first reason of a rejection
    speedup_eager: float | None  # measured on a GPU; None on the CPU
    correctness: str  # held / refuted / unchecked
    speed: str  # held / refuted / unchecked


@dataclasses.dataclass(frozen=True)
class AuditReport:
    run_folder: str
    device: str
    records: list[AuditRecord]

    @property
    def refuted(self) -> list[AuditRecord]:
        return [r for r in self.records if REFUTED in (r.correctness, r.speed)]

    def to_dict(self) -> dict:
        return {"schema": "kernelwright.audit/1", "run_folder": self.run_folder, "device": self.device,
                "kernels": len(self.records), "refuted": len(self.refuted),
                "claims_correct": sum(r.claimed_correct is True for r in self.records),
                "correct_held": sum(r.correctness == HELD for r in self.records),
                "records": [dataclasses.asdict(r) for r in self.records]}


def judge_claims(claim: Claim, verdict: str, speedup_eager: float | None) -> tuple[str, str]:
    """(correctness, speed): each claim held, refuted or unchecked against our verdict."""
    accepted = verdict == "accepted"
    if claim.correct is None:
        correctness = UNCHECKED
    else:
        correctness = HELD if bool(claim.correct) == accepted else REFUTED
    claimed_faster = claim.correct and claim.speedup is not None and claim.speedup > 1.0
    if not claimed_faster:
        speed = UNCHECKED
    elif not accepted:
        speed = REFUTED  # a kernel that is not correct is not faster
    elif speedup_eager is None:
        speed = UNCHECKED  # no timing here (the CPU)
    else:
        speed = HELD if speedup_eager > 1.0 else REFUTED
    return correctness, speed


def run_audit(req: AuditRequest) -> AuditReport:
    from kernelwright.tools.check.verify import CheckOptions, verify_solution

    if not req.run_folder.is_dir():
        raise InputError(f"audit: {req.run_folder} is not a folder (give a KernelBench run folder of level_L_problem_P_sample_S_kernel.py files)")
    kernels = [k for k in kernel_files(req.run_folder) if not req.problems or k.problem in req.problems]
    if not kernels:
        raise InputError(f"audit: no level_L_problem_P_sample_S_kernel.py file in {req.run_folder}"
                         + (" for --problems " + ",".join(map(str, req.problems)) if req.problems else ""))
    folders = {level: level_folder(req.kernelbench, level) for level in sorted({k.level for k in kernels})}
    claims = read_claims(req.run_folder)
    records, device = [], req.device
    for index, kernel in enumerate(kernels, 1):
        if req.progress:
            req.progress(f"[{index}/{len(kernels)}] {kernel.path.name}")
        claim = claims.get((kernel.problem, kernel.sample), Claim())
        problem = problem_file(folders[kernel.level], kernel.problem)
        if problem is None:
            records.append(_record(kernel, None, claim, "no_problem", f"no problem {kernel.problem} in {folders[kernel.level]}", None))
            continue
        opts = CheckOptions(device=req.device, home=req.home, timeout_s=req.timeout_s)
        try:
            result = verify_solution(problem, kernel.path, opts)
        except InputError as bad:  # their file is not a valid solution: the claim fails, the audit goes on
            records.append(_record(kernel, problem, claim, "invalid_kernel", str(bad), None))
            continue
        device = result.device
        reason = next((r.message.splitlines()[0] for r in result.reasons if r.message), None) if not result.accepted else None
        records.append(_record(kernel, problem, claim, str(result.verdict), reason, (result.speedup or {}).get("eager")))
    return AuditReport(str(req.run_folder), device, records)


def _record(kernel: KernelFile, problem: Path | None, claim: Claim, verdict: str, reason: str | None,
            speedup_eager: float | None) -> AuditRecord:
    correctness, speed = judge_claims(claim, verdict, speedup_eager)
    return AuditRecord(kernel=kernel.path.name, level=kernel.level, problem=kernel.problem, sample=kernel.sample,
                       problem_file=str(problem) if problem else None, claimed_correct=claim.correct,
                       claimed_speedup=claim.speedup, verdict=verdict, reason=reason, speedup_eager=speedup_eager,
                       correctness=correctness, speed=speed)


def print_audit(report: AuditReport) -> None:
    lines = [f"{'kernel':44} {'claimed':>16} {'our verdict':>22} {'correct':>9} {'faster':>9}"]
    for r in report.records:
        claimed = ("correct" if r.claimed_correct else "incorrect" if r.claimed_correct is False else "-") + (
            f" {r.claimed_speedup:.2f}x" if r.claimed_speedup else "")
        lines.append(f"{r.kernel:44} {claimed:>16} {r.verdict:>22} {r.correctness:>9} {r.speed:>9}")
        if r.reason and REFUTED in (r.correctness, r.speed):
            lines.append(f"    why: {r.reason[:150]}")
    lines.append(f"{len(report.records)} kernel(s) on {report.device}: {len(report.refuted)} with a refuted claim")
    print("\n".join(lines), file=sys.stderr)
