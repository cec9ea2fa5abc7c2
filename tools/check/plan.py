"""What a check runs: its variants and, in each, its trials (no torch; the parent plans, the
reference worker resolves the values it can run, the candidate worker follows).

Trials (cases) of the shipped variant, in the order the candidate runs them:
- `plain`: fresh inputs from a seed (the first one reproducible, the others secret);
- `perturb`: the inputs of the last plain trial with a few elements (`elements`) or one whole row
  (`row`) changed: a result cached from the call before is wrong there; or with every floating
  input rounded to an integer (`ties`): selections (argmax, max, sorting) meet tied values, which
  random inputs never have (a red-team argmax returned the last index of a tie); the same trial
  zeroes one slice along the first and one along the last dimension (a norm or variance of zero,
  where a missing eps divides 0 by 0), unless the reference itself is not finite there (then
  ties alone);
- `stress`: fresh inputs scaled up (`up`), down (`down`) or moved far from zero (`offset`), as far
  as the reference stays finite and as accurate as at the shipped scale (it picks the factor).

- `params` (last): every parameter of Model and ModelNew changed in place, p -> scale*p + shift,
  after the calls above, so weights copied at construction or on the first call are stale.

Variants: `shipped` (the file's values, or a CPU reduction of them, tried in order), `variant1`
(every size about 5/8 and odd) and `variant2` (every small integer and float changed).
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict

Number = int | float

STRESS = ("up", "down", "offset")
PERTURB = ("elements", "row", "ties")


def secret_seed() -> int:
    return secrets.randbelow(2**31 - 1)


class _PlanRecord(BaseModel):
    # Frozen: the run's reference cache hands the same plan to every candidate of a run.
    model_config = ConfigDict(frozen=True, extra="forbid")


class CasePlan(_PlanRecord):
    id: str
    seed: int
    kind: Literal["plain", "perturb", "stress", "params"] = "plain"
    how: str | None = None  # perturb: elements | row; stress: up | down | offset
    base: str | None = None  # perturb: the trial whose inputs it changes


class VariantPlan(_PlanRecord):
    """One variant and its trials: what the parent asks the reference worker to run (the JSON of
    its request, `requests.ReferenceRequest`)."""

    name: str
    kind: Literal["shipped", "sizes", "values"]
    cases: list[CasePlan]
    # shipped: the knob values to try, in order ({} = the file as written); the reference worker
    # runs the first its reference runs at.
    alternatives: list[dict[str, Number]] = [{}]
    transform: tuple[float, float] | None = None  # the params trial's (scale, shift)
    # dtype class -> (atol, rtol, kappa): what the candidate is judged with; the stress search
    # keeps to scales where the reference's own error stays well inside it.
    tolerances: dict[str, list[float]] | None = None
    # The seed Model and ModelNew are both constructed under: drawn per check and never shown to the
    # solution, so it cannot rebuild Model's weights by replaying the draws (red team pass 9 built an
    # answer table from seed 42's weights before the first call).
    construction_seed: int = 42


def plan_variants(alternatives: list[dict[str, Number]], *, seed: int, trials: int, variant_trials: int, strict: bool,
                  variants: bool) -> list[VariantPlan]:
    """The variants and trials of one check (compat: KernelBench's 5 plain trials, nothing else)."""
    plain = [CasePlan(id=f"shipped-{i}", seed=seed if i == 0 else secret_seed()) for i in range(max(trials, 1))]
    built = secret_seed()
    if not strict:
        return [VariantPlan(name="shipped", kind="shipped", cases=plain, alternatives=alternatives or [{}], construction_seed=built)]
    last = plain[-1].id
    cases = plain + [CasePlan(id=f"perturb-{how}", seed=secret_seed(), kind="perturb", how=how, base=last) for how in PERTURB]
    cases += [CasePlan(id=f"stress-{how}", seed=secret_seed(), kind="stress", how=how) for how in STRESS]
    # Last: the parameters change in place after the calls above (a solution that copied its
    # weights at construction or on its first call keeps the old ones).
    cases.append(CasePlan(id="params-0", seed=secret_seed(), kind="params"))
    transform = (1.15 + secrets.randbelow(2001) / 10000, 0.01 + secrets.randbelow(401) / 10000)  # scale 1.15..1.35, shift .01...05
    out = [VariantPlan(name="shipped", kind="shipped", cases=cases, alternatives=alternatives or [{}], transform=transform,
                       construction_seed=built)]
    if variants:
        out.append(VariantPlan(name="variant1", kind="sizes",
                               cases=[CasePlan(id=f"variant1-{i}", seed=secret_seed()) for i in range(max(variant_trials, 1))],
                               construction_seed=built))
        out.append(VariantPlan(name="variant2", kind="values", cases=[CasePlan(id="variant2-0", seed=secret_seed())], construction_seed=built))
    return out


@dataclasses.dataclass
class CaseDescription:
    """A trial as the parent reports and judges it."""

    id: str
    seed: int
    variant: str
    kind: str = "plain"
    detail: str = ""  # what was done to its inputs, for the verdict ("inputs x1000")
    constants: dict[str, Number] = dataclasses.field(default_factory=dict)  # the variant's changed values

    def title(self) -> str:
        what = {"plain": "", "perturb": "perturbation", "stress": "stress", "params": "changed parameters"}.get(self.kind, self.kind)
        return f"trial {self.id}" + (f" ({what}: {self.detail})" if self.detail else "")
