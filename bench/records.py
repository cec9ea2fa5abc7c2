"""A problem's bench result, one flat record (`BenchResult`): what the JSON, the Markdown table and
the chart show; and the bench's own records (`BenchMeta`, bench.json; `WorkerRequest`, what a
worker is asked to run).

A result's fields: problem, path, device, exit (what `kernelwright run` would have exited with: 0
accepted, 1 none accepted, 2 bad input), accepted, verdict (the best attempt's if accepted, else the
last attempt's, else null), speedup ({baseline: x} or null), median_ms, pct_sol, roofline, tokens,
cost_usd (null without a price), wall_s, run_id, run_dir, status, stop_reason, unsupported (the
policy's reason when it has no kernel), error; a Ray bench adds placement and failures.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from kernelwright.agents.records import Measurements, Report, RunSummary
from kernelwright.agents.records.attempt import CheckFacts
from kernelwright.graphs.traces.records import RooflineDigest

_UNSUPPORTED = re.compile(r"raised UnsupportedProblem: (.*)", re.S)

# A measured number as it was recorded: an int stays an int in the JSON written back.
Number = int | float


class BenchRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _OnlySetKeys(BenchRecord):
    """A record whose `OPTIONAL_KEYS` are written only where they were set (given, or read from a
    file that had them), so the JSON of a record is the JSON it was made from."""

    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: SerializerFunctionWrapHandler) -> object:
        data = handler(self)
        for key in self.OPTIONAL_KEYS:
            if key not in self.model_fields_set:
                data.pop(key, None)
        return data


class Placement(BenchRecord):
    """Where a Ray bench's figure was measured: the record names it for every problem."""

    actor: str  # the slot's name: "ray-gpu-3", "ray-cpu-0"
    node_id: str  # Ray's node id
    node_ip: str
    hostname: str
    pid: int  # the actor's process
    device: str  # the device the run used inside the actor: "cuda:0" (the one GPU Ray gave it) or "cpu"
    gpu_index: int | None  # the GPU's index on its node (Ray's assignment); None on the CPU
    model: str  # the GPU's name (torch.cuda.get_device_name), or the CPU's model name


class ActorFailure(_OnlySetKeys):
    """A run lost with its Ray actor (the actor's process killed, its node lost); or, with only
    `error`, a problem no live actor was left to run."""

    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("actor", "node_ip", "gpu_index", "after_s")

    actor: str | None = None
    node_ip: str | None = None
    gpu_index: int | None = None
    after_s: float | None = None
    error: str


class BenchResult(_OnlySetKeys):
    """One problem's result (problems/NAME/result.json, and a row of results.json)."""

    # Only a Ray bench writes these: a local bench's result has neither key.
    OPTIONAL_KEYS: ClassVar[tuple[str, ...]] = ("placement", "failures")

    problem: str
    path: str
    device: str
    exit: int
    accepted: bool
    verdict: str | None
    speedup: dict[str, Number | None] | None
    median_ms: Number | None
    pct_sol: Number | None
    roofline: RooflineDigest | None = None  # None in benches written before rooflines were kept
    tokens: int
    cost_usd: Number | None = None  # None in benches written before prices were kept
    wall_s: Number | None
    run_id: str | None
    run_dir: str | None
    status: str
    stop_reason: str | None
    unsupported: str | None
    error: str | None
    placement: Placement | None = None  # Ray: the actor, node and GPU it ran on (None: every attempt was lost)
    failures: list[ActorFailure] = []  # Ray: the attempts lost with their actors before this one

    def with_changes(self, **changes: object) -> BenchResult:
        """A copy with these fields set (validated, and written like fields given)."""
        return BenchResult.model_validate({**self.model_dump(exclude_unset=True), **changes})


def unsupported_reason(error: str | None) -> str | None:
    """The policy's own words when it has no kernel for the problem (from the run's error), else None."""
    match = _UNSUPPORTED.search(error or "")
    return match.group(1).strip() if match else None


def last_verdict(report: Report | None) -> str | None:
    return report.attempts[-1].verdict if report and report.attempts else None


def failed_record(name: str, path: str, device: str, status: str, error: str | None, exit_code: int = 1,
                  wall_s: float | None = None) -> BenchResult:
    """A result for a problem whose run could not produce a summary (bad input, a crash)."""
    return BenchResult(problem=name, path=path, device=device, exit=exit_code, accepted=False, verdict=None,
                       speedup=None, median_ms=None, pct_sol=None, roofline=None, tokens=0, cost_usd=None, wall_s=wall_s,
                       run_id=None, run_dir=None, status=status, stop_reason=None, unsupported=None, error=error)


def result_record(name: str, path: str, device: str, summary: RunSummary, report: Report | None,
                  check: CheckFacts | None, wall_s: float) -> BenchResult:
    """A problem's result from its run's summary, its report.json and the best attempt's check details."""
    roofline: Measurements = (check.roofline if check else None) or {}
    pct_sol = roofline.get("pct_of_sol")
    best = summary.best if summary.accepted else None  # an accepted run's figures; a rejected one has none
    return BenchResult(
        problem=name, path=path, device=device, exit=0 if summary.accepted else 1, accepted=summary.accepted,
        verdict=best.verdict if best else (None if summary.accepted else last_verdict(report)),
        speedup=best.speedup if best else None,
        median_ms=best.median_ms if best else None,
        pct_sol=pct_sol if summary.accepted and isinstance(pct_sol, (int, float)) else None,
        roofline=RooflineDigest.of(roofline) if summary.accepted and roofline else None,
        tokens=int(summary.usage.total_tokens or 0), cost_usd=summary.usage.cost_usd, wall_s=wall_s,
        run_id=summary.run_id, run_dir=summary.run_dir, status=summary.status or "finished", stop_reason=summary.stop_reason,
        unsupported=unsupported_reason(summary.error), error=summary.error,
    )
