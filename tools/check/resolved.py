"""The plan as the reference worker resolved it (parent side): which variants and trials run,
what the candidate is sent, and what a user is told about what ran and what did not."""

from __future__ import annotations

import dataclasses
from typing import Any

from kernelwright.tools.check.plan import CaseDescription
from kernelwright.tools.profile.roofline import described_nbytes


@dataclasses.dataclass
class Resolved:
    for_candidate: list[dict[str, Any]]  # variants with their trials, as the candidate worker reads them
    cases: list[CaseDescription]  # every trial the candidate runs, in order
    variants: list[dict[str, Any]]  # the result's `variants`: what ran, with what values, and what was skipped
    notes: list[str]  # what the verdict says beside it: reductions, skips, values left fixed
    shipped_values: dict[str, Any]


def _fmt(changes: dict[str, Any], before: dict[str, Any]) -> str:
    return ", ".join(f"{k} {before[k]} -> {v}" if k in before else f"{k} -> {v}" for k, v in changes.items())


def resolve(report: dict[str, Any], resized_by: str) -> Resolved:
    for_candidate, cases, variants, notes = [], [], [], []
    shipped_values = report.get("shipped_values", {})
    if shipped_values:
        how = "the problem's CPU_SIZES" if resized_by == "CPU_SIZES" else "automatically (--sizes full runs the file's sizes)"
        notes.append(f"sizes reduced for Triton's CPU interpreter, {how}: {', '.join(f'{k} -> {v}' for k, v in shipped_values.items())}")
    for info in report["variants"]:
        constants = info.get("constants", {})
        run = [{"id": c["id"], "seed": c["seed"], "kind": c.get("kind", "plain"), "output_nbytes": described_nbytes(c["output"])}
               for c in info["cases"]]
        for_candidate.append({"name": info["name"], "kind": info.get("kind", "shipped"), "transform": info.get("transform"),
                              "constants": constants, "cases": run})
        for c in info["cases"]:
            cases.append(CaseDescription(c["id"], c["seed"], info["name"], c.get("kind", "plain"), c.get("detail", ""), constants))
        entry = {"name": info["name"], "kind": info.get("kind", "shipped"), "constants": constants, "cases": len(info["cases"])}
        if info.get("fixed"):
            entry["fixed"] = info["fixed"]
            notes.append(f"{info['name']} ({info['kind']}) left fixed what the reference does not run at: "
                         + "; ".join(f"{k} ({w})" for k, w in info["fixed"].items()))
        if info.get("kind") in ("sizes", "values"):
            entry["description"] = _fmt(constants, info.get("from", {}))
        for skipped in info.get("skipped_cases", []):
            notes.append(f"trial {skipped['id']} not run: {skipped['why']}")
        entry["skipped_cases"] = info.get("skipped_cases", [])
        variants.append(entry)
    for s in report.get("skipped_variants", []):
        why = s["error"].strip().splitlines()[-1]
        variants.append({"name": s["name"], "kind": s.get("kind", ""), "skipped": why})
        notes.append(f"{s['name']} ({s.get('kind', '')}) not run: {why}")
    return Resolved(for_candidate, cases, variants, notes, shipped_values)
