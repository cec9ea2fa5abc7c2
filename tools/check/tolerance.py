"""The tolerances a check compares outputs with: the protocol's defaults, or a problem's reviewed
sidecar.

The evaluation protocol: |out - ref| <= atol_eff + rtol*|ref| with atol_eff = min(atol, kappa*max|ref|);
fp32 atol = rtol = 1e-4, kappa = 1e-3; fp16/bf16 atol = rtol = 1e-2, kappa = 1e-2. "Per-problem
overrides only through a reviewed sidecar": `NAME.tolerance.json` next to `NAME.py`, e.g.

    {"16bit": {"atol": 0.03},
     "reason": "the reference rounds its linear's output to bf16 before adding the residual ..."}

A sidecar may widen `atol` and `rtol` of a dtype class, at most MAX_WIDENING times the default,
and must say why. kappa stays: zeros or the identity still fail on small outputs. The sidecar is
the problem author's file (the agents write solutions, never problems); every check result names
the sidecar it used.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from typing_extensions import TypedDict

from kernelwright.tools.problem import InputError

DEFAULTS = {  # dtype class -> (atol, rtol, kappa)
    "fp32": (1e-4, 1e-4, 1e-3),
    "16bit": (1e-2, 1e-2, 1e-2),
}
MAX_WIDENING = 10.0
SUFFIX = ".tolerance.json"


class ToleranceUsed(TypedDict, total=False):
    """`check --json`'s "tolerance": the last compared output's figures (`compare.compare_values`)
    and where the tolerances came from (`Tolerances.describe`)."""

    atol: float
    rtol: float
    atol_eff: float  # min(atol, kappa * max|ref|)
    source: str  # "protocol defaults", or the sidecar (or "--precision tf32")
    reason: str | None  # the sidecar's
    overrides: dict[str, tuple[float, float, float]]  # dtype class -> (atol, rtol, kappa) the sidecar changed


@dataclasses.dataclass(frozen=True)
class Tolerances:
    table: dict[str, tuple[float, float, float]] = dataclasses.field(default_factory=lambda: dict(DEFAULTS))
    sidecar: str | None = None  # the file the overrides came from
    reason: str | None = None

    def for_dtype(self, dtype: Any) -> tuple[float, float, float]:
        import torch

        return self.table["16bit" if dtype in (torch.float16, torch.bfloat16) else "fp32"]

    def with_fp32_as_16bit(self) -> Tolerances:
        """For `--precision tf32`: fp32 outputs judged with the 16-bit class (TF32 keeps fp16's
        10-bit mantissa), the opt-in named in the reason."""
        table = {**self.table, "fp32": self.table["16bit"]}
        reason = "--precision tf32: fp32 outputs judged with the 16-bit tolerance" + (f"; {self.reason}" if self.reason else "")
        return dataclasses.replace(self, table=table, sidecar=self.sidecar or "--precision tf32", reason=reason)

    def describe(self) -> ToleranceUsed:
        """What a check result records: the source of the tolerances and, for a sidecar, why."""
        if self.sidecar is None:
            return {"source": "protocol defaults"}
        return {"source": self.sidecar, "reason": self.reason, "overrides": {k: self.table[k] for k in self.table if self.table[k] != DEFAULTS[k]}}


DEFAULT = Tolerances()


def sidecar_path(problem_path: Path) -> Path:
    return problem_path.with_name(problem_path.stem + SUFFIX)


def load_tolerances(problem_path: Path) -> Tolerances:
    """The problem's tolerances: the defaults, or its sidecar's overrides (InputError when bad)."""
    path = sidecar_path(problem_path)
    if not path.is_file():
        return DEFAULT
    example = '{"16bit": {"atol": 0.03}, "reason": "why the defaults are too tight for this problem"}'

    def bad(what: str) -> InputError:
        return InputError(f"tolerance sidecar {path}: {what}; write it as {example} (or delete it to use the protocol's defaults)")

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise bad(f"not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object")
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise bad('"reason" is missing: an override must say why the defaults are too tight')
    unknown = sorted(set(data) - {"reason", *DEFAULTS})
    if unknown:
        raise bad(f"unknown key(s) {', '.join(unknown)} (allowed: fp32, 16bit, reason)")
    table = dict(DEFAULTS)
    for cls, default in DEFAULTS.items():
        override = data.get(cls)
        if override is None:
            continue
        if not isinstance(override, dict) or not override or set(override) - {"atol", "rtol"}:
            raise bad(f'"{cls}" must be an object with "atol" and/or "rtol" (kappa cannot be changed)')
        atol, rtol = override.get("atol", default[0]), override.get("rtol", default[1])
        for name, value, floor in (("atol", atol, default[0]), ("rtol", rtol, default[1])):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad(f"{cls}.{name} = {value!r} is not a number")
            if not floor <= value <= floor * MAX_WIDENING:
                raise bad(f"{cls}.{name} = {value} is outside [{floor:g}, {floor * MAX_WIDENING:g}] (the default up to {MAX_WIDENING:g}x)")
        table[cls] = (float(atol), float(rtol), default[2])
    return Tolerances(table=table, sidecar=path.name, reason=reason.strip())
