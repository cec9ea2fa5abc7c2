"""What a lesson is: a claim about GPU kernels, the conditions it holds under, and its evidence.

Callers may rely on: `Lesson` and `Evidence` validate and normalise what they are given
(`kind` is one of `KINDS`, `arch` is `sm_NN` or `any`, `dtype` is one of `DTYPES`,
`confidence` lies in [0, 1]); `to_dict()` / `Lesson.model_validate(d)` round-trip through JSON;
unknown keys in `Evidence` are kept (an analyst may add e.g. `noise_floor` or `problem`).
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

Kind = Literal["optimization", "pitfall", "fix", "failed-idea"]
Source = Literal["seed", "learned", "user"]
KINDS: tuple[str, ...] = ("optimization", "pitfall", "fix", "failed-idea")
SOURCES: tuple[str, ...] = ("seed", "learned", "user")
DTYPES: tuple[str, ...] = ("any", "fp32", "bf16", "fp16", "fp8", "int8")
# Families the expert policy and the planner speak of; others are accepted as lower-case slugs.
OP_FAMILIES: tuple[str, ...] = (
    "any", "elementwise", "row-reduction", "column-reduction", "norm", "matmul", "conv", "attention", "scan",
)
SEED_EVIDENCE_NOTE = "source: seed (from documentation/experience, not measured here)"

_DTYPE_ALIASES = {
    "float32": "fp32", "float": "fp32", "f32": "fp32", "torch.float32": "fp32",
    "bfloat16": "bf16", "torch.bfloat16": "bf16",
    "float16": "fp16", "half": "fp16", "f16": "fp16", "torch.float16": "fp16",
    "float8": "fp8", "e4m3": "fp8", "e5m2": "fp8",
}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def now_iso() -> str:
    """The current UTC time, ISO 8601 with microseconds (what `created_at`/`updated_at` hold)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


def normalize_arch(value: str | None) -> str:
    """'sm_90', 'sm90', 'SM_90a', '9.0' and '90' all give 'sm_90'; '' / None / 'any' give 'any'."""
    raw = (value or "any").strip().lower()
    if raw in ("any", "*", ""):
        return "any"
    m = re.fullmatch(r"(?:sm_?)?(\d)\.?(\d)[a-z]?", raw)
    if not m:
        raise ValueError(f"arch {value!r} is not a GPU architecture like sm_80 or sm_90 (or 'any')")
    return f"sm_{m.group(1)}{m.group(2)}"


def normalize_dtype(value: str | None) -> str:
    """'bfloat16' -> 'bf16', 'float32' -> 'fp32', ...; raises ValueError for anything not in DTYPES."""
    raw = (value or "any").strip().lower()
    raw = _DTYPE_ALIASES.get(raw, raw)
    if raw not in DTYPES:
        raise ValueError(f"dtype {value!r} is not one of {', '.join(DTYPES)}")
    return raw


def normalize_op_family(value: str | None) -> str:
    """Lower-case slug ('Row Reduction' -> 'row-reduction'); 'any' when empty."""
    raw = re.sub(r"[\s_]+", "-", (value or "any").strip().lower())
    if not _SLUG.match(raw):
        raise ValueError(f"op family {value!r} is not a slug like {', '.join(OP_FAMILIES[1:5])}")
    return raw


class HistoryEntry(BaseModel):
    """One later outcome of a lesson (`outcome`, `confirmed`) or one merge of a second copy of its
    claim (`merged_from`), with the run it came from where known; `at` is when it was recorded."""

    run_id: str | None = None
    step: int | str | None = None
    speedup: float | None = None
    outcome: Literal["improved", "not improved"] | None = None
    confirmed: bool | None = None  # the outcome agreed with the lesson's claim
    merged_from: str | None = None  # the incoming copy's source (seed, learned, user)
    at: str = ""

    @model_serializer(mode="wrap")
    def _only_known(self, handler: SerializerFunctionWrapHandler) -> dict[str, str | int | float | bool]:
        # An entry holds the keys that apply to it, no nulls (the stored JSON of earlier versions).
        return {k: v for k, v in handler(self).items() if v is not None}


class Evidence(BaseModel):
    """Why anyone should believe a lesson: measurements and where they came from.

    `history` holds compact records of later outcomes and merges (newest last, capped), so a
    lesson can be re-tested or retired from its track record.
    """

    model_config = ConfigDict(extra="allow")

    note: str | None = None
    metrics_before: dict[str, float] = Field(default_factory=dict)
    metrics_after: dict[str, float] = Field(default_factory=dict)
    speedup: float | None = None
    speedup_spread: float | None = None
    run_id: str | None = None
    step: int | str | None = None
    versions: dict[str, str] = Field(default_factory=dict)
    history: list[HistoryEntry] = Field(default_factory=list)

    def is_measured(self) -> bool:
        """True when it carries a measurement or points to a run (not just a note)."""
        return bool(self.metrics_before or self.metrics_after or self.speedup is not None or self.run_id)


class Lesson(BaseModel):
    """One lesson. `id` is empty until a store assigns it; the store also keeps the timestamps."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    id: str = ""
    title: str
    body: str
    kind: Kind = "optimization"
    arch: str = "any"
    op_family: str = "any"
    dtype: str = "any"
    shape_regime: str = ""
    change: str = ""
    tags: list[str] = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=Evidence)
    # The profile shape the lesson addresses (same keys as profile metrics, e.g. dram_pct,
    # registers). For seeds it is a hand-written typical profile used only for retrieval
    # similarity, not a measurement; learned lessons use evidence.metrics_before instead.
    signature: dict[str, float] = Field(default_factory=dict)
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    applications: int = Field(default=0, ge=0)
    successes: int = Field(default=0, ge=0)
    source: Source = "user"
    created_at: str = ""
    updated_at: str = ""

    @field_validator("title", "body")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be empty")
        return v

    @field_validator("arch", mode="before")
    @classmethod
    def _arch(cls, v: Any) -> str:
        return normalize_arch(v)

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype(cls, v: Any) -> str:
        return normalize_dtype(v)

    @field_validator("op_family", mode="before")
    @classmethod
    def _op_family(cls, v: Any) -> str:
        return normalize_op_family(v)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> list[str]:
        if v is None:
            return []
        items = v.replace(",", " ").split() if isinstance(v, str) else [str(t) for t in v]
        seen: list[str] = []
        for t in items:
            t = t.strip().lower()
            if t and t not in seen:
                seen.append(t)
        return seen

    def profile(self) -> dict[str, float]:
        """The metrics retrieval compares with the current profile: measured 'before' metrics
        when there are any, else the hand-written signature."""
        return dict(self.evidence.metrics_before) or dict(self.signature)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of every field (what `--json` and export print)."""
        return self.model_dump(mode="json")
