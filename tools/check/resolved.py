"""The plan as the reference worker resolved it (parent side): which variants and trials run,
what the candidate is sent, and what a user is told about what ran and what did not."""

from __future__ import annotations

import dataclasses

from kernelwright.tools.check.plan import CaseDescription, Number
from kernelwright.tools.check.verdicts import VariantSummary
from kernelwright.tools.profile.roofline import described_nbytes
from kernelwright.tools.worker.candidate_protocol import CandidateCase, CandidateVariant, InputRecipe
from kernelwright.tools.worker.reference_protocol import ReferenceReport, spec_json


@dataclasses.dataclass
class Resolved:
    for_candidate: list[CandidateVariant]  # variants with their trials, as the candidate worker reads them
    cases: list[CaseDescription]  # every trial the candidate runs, in order
    variants: list[VariantSummary]  # the result's `variants`: what ran, with what values, and what was skipped
    notes: list[str]  # what the verdict says beside it: reductions, skips, values left fixed
    shipped_values: dict[str, Number]


def _fmt(changes: dict[str, Number], before: dict[str, Number]) -> str:
    return ", ".join(f"{k} {before[k]} -> {v}" if k in before else f"{k} -> {v}" for k, v in changes.items())


def resolve(report: ReferenceReport, resized_by: str) -> Resolved:
    for_candidate, cases, variants, notes = [], [], [], []
    shipped_values = report.shipped_values
    if shipped_values:
        how = "the problem's CPU_SIZES" if resized_by == "CPU_SIZES" else "automatically (--sizes full runs the file's sizes)"
        notes.append(f"sizes reduced for Triton's CPU interpreter, {how}: {', '.join(f'{k} -> {v}' for k, v in shipped_values.items())}")
    for info in report.variants:
        constants = info.constants
        run = tuple(CandidateCase(id=c.id, seed=c.seed, kind=c.kind, output_nbytes=described_nbytes(spec_json(c.output)),
                                  inputs=InputRecipe(**c.inputs.model_dump()) if c.inputs else None) for c in info.cases)
        transform = (info.transform[0], info.transform[1]) if info.transform else None
        for_candidate.append(CandidateVariant(name=info.name, kind=info.kind, transform=transform, constants=constants, cases=run,
                                              problem_source=info.source, construction_seed=info.construction_seed))
        for c in info.cases:
            cases.append(CaseDescription(c.id, c.seed, info.name, c.kind, c.detail, constants))
        entry: VariantSummary = {"name": info.name, "kind": info.kind, "constants": constants, "cases": len(info.cases)}
        if info.fixed:
            entry["fixed"] = info.fixed
            notes.append(f"{info.name} ({info.kind}) left fixed what the reference does not run at: "
                         + "; ".join(f"{k} ({w})" for k, w in info.fixed.items()))
        if info.kind in ("sizes", "values"):
            entry["description"] = _fmt(constants, info.from_)
        for skipped in info.skipped_cases:
            notes.append(f"trial {skipped.id} not run: {skipped.why}")
        entry["skipped_cases"] = [s.model_dump() for s in info.skipped_cases]
        variants.append(entry)
    for s in report.skipped_variants:
        why = s.error.strip().splitlines()[-1]
        variants.append({"name": s.name, "kind": s.kind, "skipped": why})
        notes.append(f"{s.name} ({s.kind}) not run: {why}")
    return Resolved(for_candidate, cases, variants, notes, shipped_values)

