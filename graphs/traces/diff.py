"""`diff_runs(a, b)`: per-step and outcome differences of two traced runs (`traces diff`).

Steps are aligned on their node sequence (difflib's SequenceMatcher): matched steps are compared
on role, verdicts and tokens (durations always differ; their delta is reported, not counted as a
difference); unmatched steps appear as only in A or only in B.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import JsonValue

from kernelwright.agents.records import Record
from kernelwright.graphs.traces.records import RunShown, StepShown


class StepBrief(Record):
    index: int
    node: str
    role: str | None
    duration_s: float | None
    verdicts: list[str]
    tokens: int
    error: str | None

    @classmethod
    def of(cls, step: StepShown) -> StepBrief:
        return cls(index=step.index, node=step.node, role=step.role, duration_s=step.duration_s, verdicts=step.verdicts,
                   tokens=step.token_count(), error=step.error)


class FieldDiff(Record):
    a: JsonValue
    b: JsonValue
    same: bool

    @classmethod
    def of(cls, a: JsonValue, b: JsonValue) -> FieldDiff:
        return cls(a=a, b=b, same=a == b)


class StepDiff(Record):
    op: Literal["same", "changed", "only_a", "only_b"]
    a: StepBrief | None
    b: StepBrief | None
    differences: list[str]
    duration_delta_s: float | None


class OutcomeDiff(Record):
    status: FieldDiff
    accepted: FieldDiff
    best_candidate: FieldDiff
    best_speedup: FieldDiff
    best_median_ms: FieldDiff
    stop_reason: FieldDiff
    error: FieldDiff
    verdicts: FieldDiff
    total_tokens: FieldDiff
    steps: FieldDiff
    wall_s: FieldDiff


class DiffCounts(Record):
    same: int
    changed: int
    only_a: int
    only_b: int


class RunDiff(Record):
    """`traces diff --json`."""

    run_a: str
    run_b: str
    problem: FieldDiff
    nodes: FieldDiff
    outcome: OutcomeDiff
    steps: list[StepDiff]
    counts: DiffCounts
    identical_path: bool


def _eager(run: RunShown) -> JsonValue:
    speed = (run.best or {}).get("speedup")
    return speed.get("eager") if isinstance(speed, dict) else None


def _best(run: RunShown, key: str) -> JsonValue:
    return (run.best or {}).get(key)


def diff_runs(a: RunShown, b: RunShown) -> RunDiff:
    """a, b: `traces_cli.show_run`'s records."""
    sa, sb = a.steps, b.steps
    matcher = difflib.SequenceMatcher(a=[s.node for s in sa], b=[s.node for s in sb], autojunk=False)
    rows: list[StepDiff] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for x, y in zip(sa[i1:i2], sb[j1:j2]):
                bx, by = StepBrief.of(x), StepBrief.of(y)
                differences = [k for k in ("role", "verdicts", "tokens", "error") if getattr(bx, k) != getattr(by, k)]
                rows.append(StepDiff(op="changed" if differences else "same", a=bx, b=by, differences=differences,
                                     duration_delta_s=(by.duration_s or 0.0) - (bx.duration_s or 0.0)))
            continue
        rows += [StepDiff(op="only_a", a=StepBrief.of(x), b=None, differences=["node"], duration_delta_s=None) for x in sa[i1:i2]]
        rows += [StepDiff(op="only_b", a=None, b=StepBrief.of(y), differences=["node"], duration_delta_s=None) for y in sb[j1:j2]]
    outcome = OutcomeDiff(
        status=FieldDiff.of(a.status, b.status),
        accepted=FieldDiff.of(a.accepted, b.accepted),
        best_candidate=FieldDiff.of(_best(a, "candidate_id"), _best(b, "candidate_id")),
        best_speedup=FieldDiff.of(_eager(a), _eager(b)),
        best_median_ms=FieldDiff.of(_best(a, "median_ms"), _best(b, "median_ms")),
        stop_reason=FieldDiff.of(a.stop_reason, b.stop_reason),
        error=FieldDiff.of(a.error, b.error),
        verdicts=FieldDiff.of([v for s in sa for v in s.verdicts], [v for s in sb for v in s.verdicts]),
        total_tokens=FieldDiff.of(a.usage.total_tokens, b.usage.total_tokens),
        steps=FieldDiff.of(len(sa), len(sb)),
        wall_s=FieldDiff.of(a.wall_s, b.wall_s),
    )
    counts = DiffCounts(**{op: sum(r.op == op for r in rows) for op in ("same", "changed", "only_a", "only_b")})
    return RunDiff(
        run_a=a.run_id, run_b=b.run_id,
        problem=FieldDiff.of(a.problem, b.problem),
        nodes=FieldDiff.of([s.node for s in sa], [s.node for s in sb]),
        outcome=outcome,
        steps=rows,
        counts=counts,
        identical_path=counts.only_a == 0 and counts.only_b == 0,
    )


def format_diff(d: RunDiff) -> str:
    """A readable terminal view of `diff_runs`' result."""
    lines = [f"A {d.run_a}", f"B {d.run_b}"]
    if not d.problem.same:
        lines.append(f"problem   A {d.problem.a}  B {d.problem.b}")
    for key in OutcomeDiff.model_fields:
        f: FieldDiff = getattr(d.outcome, key)
        if key == "wall_s":
            fa, fb = f.a, f.b
            lines.append(f"{key:<15} A {fa if not isinstance(fa, (int, float)) else round(fa, 2)!s:<12} "
                         f"B {fb if not isinstance(fb, (int, float)) else round(fb, 2)!s}")
            continue
        mark = " " if f.same else "*"
        lines.append(f"{mark}{key:<14} A {f.a!s:<12} B {f.b!s}")
    c = d.counts
    lines.append(f"steps: {c.same} same, {c.changed} changed, {c.only_a} only in A, {c.only_b} only in B")

    def cell(s: StepBrief | None) -> str:
        if s is None:
            return " " * 48
        v = ",".join(s.verdicts)
        return f"[{s.index:>2}] {s.node:<9} {(s.role or 'tool'):<9} {s.duration_s or 0:7.2f}s {v:<14}"

    sign = {"same": "=", "changed": "~", "only_a": "-", "only_b": "+"}
    for r in d.steps:
        extra = ""
        if r.op == "changed" and r.a and r.b:
            extra = "  " + "; ".join(f"{k}: {getattr(r.a, k)} -> {getattr(r.b, k)}" for k in r.differences)
        if r.duration_delta_s is not None:
            extra += f"  dt {r.duration_delta_s:+.2f}s"
        lines.append(f"{sign[r.op]} A {cell(r.a)} | B {cell(r.b)}{extra}")
    return "\n".join(lines)
