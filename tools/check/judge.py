"""Turning the candidate worker's event log into a verdict (parent side).

Each case is judged by the guards in a fixed order — the first that fails names the verdict,
and every failure is kept as a reason — so that one cheat gets one stable verdict.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from kernelwright.tools.check.compare import compare_structure, compare_values
from kernelwright.tools.check.verdicts import Reason, Verdict
from kernelwright.tools.sandbox.child import ChildResult
from kernelwright.tools.worker.common import RewrittenFile, load_tensors


@dataclasses.dataclass
class Judgement:
    verdict: Verdict
    reasons: list[Reason] = dataclasses.field(default_factory=list)
    trials: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    max_abs_err: float | None = None
    rel_err: float | None = None
    tolerance: dict[str, Any] | None = None
    weights_aligned: bool | None = None
    launches: dict[str, int] = dataclasses.field(default_factory=dict)
    signatures: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else text.strip()


def case_reasons(event: dict[str, Any], ref: Any, out: Any, options: Any, device: str) -> tuple[list[Reason], Any]:
    """All guard failures of one case, in verdict-priority order, plus the value comparison."""
    reasons: list[Reason] = []
    if event["new_threads"]:
        reasons.append(Reason("threads", f"the forward started {event['new_threads']} thread(s): work hidden from the timer", Verdict.STATIC_VIOLATION))
    for change in event["state_changes"]:
        reasons.append(Reason("global_state", f"the forward changed {change}", Verdict.GLOBAL_STATE))
    if event["rng_changed"]:
        reasons.append(Reason("global_state", "the forward changed the global RNG state", Verdict.GLOBAL_STATE))
    if event["mutated_inputs"]:
        reasons.append(Reason("inputs", f"the forward modified input(s) {event['mutated_inputs']}; inputs must be left unchanged", Verdict.INPUT_MUTATED))
    if event["own_launches"] == 0:
        reasons.append(Reason("launches", "the forward launched none of the solution's own kernels", Verdict.NO_CUSTOM_KERNEL))
    if event["compute_ops"] and not options.allow_torch_ops:
        ops = ", ".join(f"aten.{k} x{v}" for k, v in sorted(event["compute_ops"].items()))
        reasons.append(Reason("torch_ops", f"the forward computed with torch ({ops}); do the work in your kernels or pass --allow-torch-ops", Verdict.TORCH_COMPUTE))
    comparison = compare_structure(event["output"], ref, device)
    if comparison is None:
        comparison = compare_values(out, ref, options.mode, options.tolerances)
    if comparison.verdict is not Verdict.ACCEPTED:
        reasons.append(Reason("output", comparison.message, comparison.verdict))
    return reasons, comparison


def judge_candidate(
    child: ChildResult,
    events: list[dict[str, Any]],
    refs: dict[str, Any],
    cases: list[dict[str, Any]],
    out_dir: Path,
    options: Any,
    device: str,
    timeout_s: float,
) -> Judgement:
    j = Judgement(verdict=Verdict.ACCEPTED)
    case_info = {c["id"]: c for c in cases}
    done: set[str] = set()

    def fail(verdict: Verdict, check: str, message: str) -> Judgement:
        j.reasons.insert(0, Reason(check, message, verdict))
        j.verdict = verdict
        return j

    for ev in events:
        if ev["event"] == "done":
            j.launches = {**ev["own"], **{f"other:{k}": v for k, v in ev["other"].items()}}
            j.signatures = ev["signatures"]
    last_call = None
    for ev in events:
        kind = ev["event"]
        if kind in ("loaded", "constructed"):
            what = "importing the solution" if kind == "loaded" else "constructing ModelNew"
            for change in ev["state_changes"]:
                j.reasons.append(Reason("global_state", f"{what} changed {change}", Verdict.GLOBAL_STATE))
            if ev["new_threads"]:
                j.reasons.append(Reason("threads", f"{what} started threads", Verdict.STATIC_VIOLATION))
            if j.reasons:
                j.verdict = j.reasons[0].verdict
                return j
        elif kind == "weights":
            j.weights_aligned = ev["aligned"] if j.weights_aligned is None else (j.weights_aligned and ev["aligned"])
        elif kind == "call":
            last_call = ev["case"]
        elif kind == "error":
            verdict = Verdict(ev["kind"])
            where = f"case {ev['case']}" if "case" in ev else ev.get("stage", "load")
            message = f"{where}: {_first_line(ev['error'])}"
            variant = ev.get("variant") or case_info.get(ev.get("case", ""), {}).get("variant", "shipped")
            if variant != "shipped":
                # Every shipped case passed already (a failure there returns at once).
                constants = next(c["constants"] for c in cases if c["variant"] == variant)
                return fail(Verdict.SHAPE_OVERFIT, "variants", f"correct at the shipped sizes but fails at {constants}: {message}")
            j.reasons.append(Reason("run", ev["error"][-1500:], verdict))
            return fail(verdict, "run", message)
        elif kind == "result":
            case = case_info[ev["case"]]
            try:
                out = load_tensors(out_dir / f"out_{ev['case']}.pt", sha256=ev["output_sha256"])
            except RewrittenFile as exc:
                return fail(Verdict.STATIC_VIOLATION, "outputs", f"case {ev['case']}: {exc}: code in the candidate's process changed its output after the call")
            reasons, comparison = case_reasons(ev, refs[ev["case"]], out, options, device)
            done.add(ev["case"])
            j.trials.append(
                {
                    "case": ev["case"],
                    "variant": case["variant"],
                    "seed": case["seed"],
                    "ok": not reasons,
                    "max_abs_err": comparison.max_abs_err,
                    "rel_err": comparison.rel_err,
                }
            )
            if comparison.max_abs_err is not None:
                j.max_abs_err = max(j.max_abs_err or 0.0, comparison.max_abs_err)
            if comparison.rel_err is not None:
                j.rel_err = max(j.rel_err or 0.0, comparison.rel_err)
            j.tolerance = comparison.tolerance or j.tolerance
            if reasons:
                first = reasons[0]
                output_only = first.check == "output"
                if case["variant"] != "shipped" and output_only:
                    j.reasons = reasons
                    return fail(Verdict.SHAPE_OVERFIT, "variants", f"correct at the shipped sizes but not at {case['constants']}: {first.message}")
                j.reasons = reasons
                j.verdict = first.verdict
                return j

    missing = [c["id"] for c in cases if c["id"] not in done]
    if not missing:
        return j
    where = f" during case {last_call}" if last_call else ""
    if child.timed_out:
        return fail(Verdict.TIMEOUT, "sandbox", f"the candidate did not finish within {timeout_s:g}s{where}; it was stopped")
    if child.signal_name:
        return fail(Verdict.CRASH, "sandbox", f"the candidate process died of {child.signal_name}{where} (e.g. an illegal memory access)")
    tail = _first_line(child.stderr) if child.stderr.strip() else f"exit code {child.returncode}"
    return fail(Verdict.CRASH, "sandbox", f"the candidate process ended{where} without finishing: {tail}")
