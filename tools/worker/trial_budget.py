"""Which trials of a check fit its scratch space, decided by the reference worker once its first
trial's files exist (`kernelwright.tools.check.scratch_budget` has the rules and the words)."""

from __future__ import annotations

import torch

from kernelwright.tools.check import scratch_budget
from kernelwright.tools.worker.common import CheckerSideError
from kernelwright.tools.worker.reference_protocol import ReferenceRequest


class TrialBudget:
    """Which trials fit the check's scratch space, decided once the first trial's files exist."""

    def __init__(self, req: ReferenceRequest) -> None:
        self.req, self.kept, self.why = req, None, ""  # kept None: every trial
        self.free: set[str] = set()  # trials that cost nothing (a params trial the reference skips anyway)
        self.decided = False  # once, on the check's first trial

    def measured(self, model: torch.nn.Module, input_bytes: int, output_bytes: int, reference_files: bool = True) -> None:
        """`input_bytes` 0: the inputs are made again in the candidate's process (no file);
        `reference_files`: the reference's outputs go through files too (not compared here)."""
        budget = self.req.budget
        if budget is None or self.decided:
            return
        self.decided = True
        shared = self.req.candidate_shares  # the candidate's outputs in memory (`output_share`), not on disk
        fit = scratch_budget.trials_that_fit(budget, input_bytes, output_bytes, reference_files, shared_outputs=shared)
        if fit < scratch_budget.MIN_TRIALS:
            raise CheckerSideError(scratch_budget.refusal(budget, input_bytes, output_bytes, reference_files, shared))
        total = sum(len(p.cases) for p in self.req.variants)
        if fit < total:
            has_parameters = any(p.is_floating_point() for p in model.parameters())
            self.kept = scratch_budget.kept_trials(self.req.variants, fit, has_parameters)
            if not has_parameters:
                self.free = {c.id for p in self.req.variants for c in p.cases if c.kind == "params"}
            self.why = scratch_budget.dropped_why(fit, total, input_bytes, output_bytes, budget, reference_files, shared)

    def allows(self, case_id: str) -> bool:
        return self.kept is None or case_id in self.kept or case_id in self.free
