"""The trace's rows as records: a run (`TraceRun`) and one node execution (`TraceStep`) of
HOME/traces.db, built in one place (`from_row`, used by `TraceStore.run` and `.steps`) with their
JSON columns decoded there, so no reader spells a column name or calls json.loads again.

Columns whose shape is ours and stable are typed (usage, fork origin, tool uses, candidates,
verdicts). The JSON documents a step or run stored (the digest of a state update, the LLM
exchanges, the run's config and best) are `StoredJson`: they are read back as the version that
recorded the run wrote them, so an old traces.db still opens; they are not validated against
today's records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

from pydantic import JsonValue, field_serializer

from kernelwright.agents.records import ForkOrigin, Measurements, Record, TokenUsage

# A JSON document as some version of kernelwright stored it in traces.db (see the module's note):
# free-form here because old databases must still open.
StoredJson = dict[str, JsonValue]
# A row as SQLite returns it (sqlite_utils' rows_where).
SqlValue = str | int | float | bytes | None
SqlRow = Mapping[str, SqlValue]


def _json(text: SqlValue, default: JsonValue = None) -> JsonValue:
    return json.loads(text) if isinstance(text, (str, bytes)) and text else default


class ToolUse(Record):
    """The `tools` column: one check a step ran."""

    tool: str
    candidate: str
    verdict: str
    wall_s: float | None = None
    isolation: Measurements | None = None  # how the sandbox confined the check's children


class CandidateRef(Record):
    """The `candidates` column: a candidate a step produced, by hash (the source is in the run folder)."""

    id: str
    sha: str | None = None


class TraceRun(Record):
    """A row of the `runs` table."""

    run_id: str
    problem: str
    policy: str
    model: str = ""  # "" when the run had none
    config: StoredJson = {}
    device: str | None = None
    versions: dict[str, str | None] = {}
    status: str
    stop_reason: str | None = None
    error: str | None = None
    accepted: bool = False
    best: StoredJson | None = None  # the BestSummary the run finished with, as stored
    usage: TokenUsage = TokenUsage()
    created_at: float
    updated_at: float | None = None
    wall_s: float | None = None
    forked_from: ForkOrigin | None = None  # its steps 0..step are copies of that run's
    replay_of: str | None = None  # the run whose recorded LLM answers it was served

    @classmethod
    def from_row(cls, row: SqlRow) -> TraceRun:
        return cls(
            run_id=row["run_id"], problem=row["problem"], policy=row["policy"], model=row.get("model") or "",
            config=_json(row.get("config"), {}), device=row.get("device"), versions=_json(row.get("versions"), {}),
            status=row["status"], stop_reason=row.get("stop_reason"), error=row.get("error"), accepted=bool(row.get("accepted")),
            best=_json(row.get("best")), usage=TokenUsage.model_validate_json(row["usage"]) if row.get("usage") else TokenUsage(),
            created_at=row["created_at"], updated_at=row.get("updated_at"), wall_s=row.get("wall_s"),
            forked_from=ForkOrigin.model_validate_json(row["forked_from"]) if row.get("forked_from") else None,
            replay_of=row.get("replay_of"),
        )

    def to_row(self) -> dict[str, SqlValue]:
        """The row again, as `TraceStore` writes it (a bench's Ray bundle carries runs between homes)."""
        return {
            "run_id": self.run_id, "problem": self.problem, "policy": self.policy, "model": self.model,
            "config": json.dumps(self.config), "device": self.device, "versions": json.dumps(self.versions), "status": self.status,
            "stop_reason": self.stop_reason, "error": self.error, "accepted": int(self.accepted),
            "best": json.dumps(self.best) if self.best else None, "usage": self.usage.model_dump_json(exclude_none=True),
            "created_at": self.created_at, "updated_at": self.updated_at, "wall_s": self.wall_s,
            "forked_from": self.forked_from.model_dump_json() if self.forked_from else None, "replay_of": self.replay_of,
        }


class TraceStep(Record):
    """A row of the `steps` table: one node execution."""

    run_id: str
    idx: int
    node: str
    role: str | None = None  # None: a tool node (check, profile, finish)
    started_at: float
    duration_s: float
    summary: StoredJson = {}  # a digest of the node's state update (`store.summarize`)
    llm: list[StoredJson] | None = None  # the LLM exchanges (agents/records/llm_call.py), as stored
    tools: list[ToolUse] = []
    candidates: list[CandidateRef] = []
    verdicts: list[str] = []
    error: str | None = None
    checkpoint_thread: str | None = None  # the LangGraph thread and checkpoint holding the state after it
    checkpoint_id: str | None = None

    @classmethod
    def from_row(cls, row: SqlRow) -> TraceStep:
        return cls(
            run_id=row["run_id"], idx=row["idx"], node=row["node"], role=row.get("role"), started_at=row["started_at"],
            duration_s=row["duration_s"], summary=_json(row.get("summary"), {}), llm=_json(row.get("llm")),
            tools=_json(row.get("tools"), []), candidates=_json(row.get("candidates"), []), verdicts=_json(row.get("verdicts"), []),
            error=row.get("error"), checkpoint_thread=row.get("checkpoint_thread"), checkpoint_id=row.get("checkpoint_id"),
        )

    def to_row(self) -> dict[str, SqlValue]:
        return {
            "run_id": self.run_id, "idx": self.idx, "node": self.node, "role": self.role, "started_at": self.started_at,
            "duration_s": self.duration_s, "summary": json.dumps(self.summary), "llm": json.dumps(self.llm) if self.llm else None,
            "tools": json.dumps([t.model_dump(mode="json") for t in self.tools]),
            "candidates": json.dumps([c.model_dump(mode="json") for c in self.candidates]), "verdicts": json.dumps(self.verdicts),
            "error": self.error, "checkpoint_thread": self.checkpoint_thread, "checkpoint_id": self.checkpoint_id,
        }


def _usage_of(call: StoredJson) -> StoredJson:
    usage = call.get("usage")
    return usage if isinstance(usage, dict) else {}


class PeaksNote(Record):
    """Which device's peaks a roofline used, and where they came from (measured or a datasheet)."""

    gpu: str | None = None
    source: str | None = None


class RooflineDigest(Record):
    """What the report's roofline plot needs (graphs/traces/plots.py) of a check's or profile's
    roofline (tools/profile/roofline.py), without the peak tables. Stored in the step summaries and
    in a bench's results."""

    bytes: int | float | None = None
    flops: int | float | None = None
    bandwidth_Bps: int | float | None = None
    peak_flops: int | float | None = None
    t_sol_ms: int | float | None = None
    bound: str | None = None
    pct_of_sol: int | float | None = None
    measured_ms: int | float | None = None
    arithmetic_intensity: int | float | None = None
    peaks: PeaksNote = PeaksNote()

    @classmethod
    def of(cls, roofline: Measurements | None) -> RooflineDigest | None:
        """The digest of a full roofline report (None for none); a digest read back gives itself."""
        if not roofline:
            return None
        peaks = roofline.get("peaks")
        peaks = peaks if isinstance(peaks, dict) else {}
        return cls.model_validate({**{k: roofline.get(k) for k in cls.model_fields if k != "peaks"},
                                   "peaks": {"gpu": peaks.get("gpu"), "source": peaks.get("source")}})


# -- what `traces list` and `traces show` print (and `traces diff`, the HTML report read) ----------

class RunListing(Record):
    """One run as `traces list` shows it."""

    run_id: str
    problem: str
    status: str
    policy: str
    model: str | None
    accepted: bool
    best_speedup: JsonValue = None  # {baseline: x} of the best, as stored
    usage: TokenUsage
    stop_reason: str | None
    error: str | None
    created_at: float
    age_s: float
    forked_from: ForkOrigin | None  # its steps 0..step are that run's
    replay_of: str | None

    @field_serializer("usage")
    def _usage(self, usage: TokenUsage) -> StoredJson:
        return usage.model_dump(mode="json", exclude_none=True)  # no cost_usd key when no call had a price

    @classmethod
    def of(cls, run: TraceRun) -> RunListing:
        return cls(**cls._fields_of(run))

    @staticmethod
    def _fields_of(run: TraceRun) -> dict[str, object]:
        speedup = (run.best or {}).get("speedup")
        return dict(run_id=run.run_id, problem=run.problem, status=run.status, policy=run.policy, model=run.model or None,
                    accepted=run.accepted, best_speedup=speedup, usage=run.usage, stop_reason=run.stop_reason, error=run.error,
                    created_at=run.created_at, age_s=time.time() - run.created_at, forked_from=run.forked_from, replay_of=run.replay_of)

    def origin_text(self) -> str:
        """The origin in words: 'fork of RUN after step N', 'replay of RUN', both, or an empty string."""
        parts = [f"fork of {self.forked_from.run_id} after step {self.forked_from.step}"] if self.forked_from else []
        parts += [f"replay of {self.replay_of}"] if self.replay_of else []
        return "; ".join(parts)


class StepShown(Record):
    """One step as `traces show` prints it."""

    index: int
    node: str
    role: str | None
    started_at: float
    duration_s: float
    llm: list[StoredJson] | None
    tools: list[ToolUse]
    verdicts: list[str]
    summary: StoredJson
    error: str | None
    inherited: bool  # a copy of the forked run's step

    @classmethod
    def of(cls, step: TraceStep, inherited: bool) -> StepShown:
        return cls(index=step.idx, node=step.node, role=step.role, started_at=step.started_at, duration_s=step.duration_s,
                   llm=step.llm, tools=step.tools, verdicts=step.verdicts, summary=step.summary, error=step.error, inherited=inherited)

    def token_count(self) -> int:
        """Tokens its LLM calls used."""
        return sum(int(_usage_of(call).get("total_tokens") or 0) for call in self.llm or [])


class RunShown(RunListing):
    """A run with its steps: `traces show --json`, the input of `traces diff` and of the HTML report."""

    best: StoredJson | None
    wall_s: float | None
    config: StoredJson
    versions: dict[str, str | None]
    steps: list[StepShown]

    @classmethod
    def of_steps(cls, run: TraceRun, steps: list[TraceStep]) -> RunShown:
        inherited = run.forked_from.step if run.forked_from else None
        return cls(**cls._fields_of(run), best=run.best, wall_s=run.wall_s, config=run.config, versions=run.versions,
                   steps=[StepShown.of(s, inherited is not None and s.idx <= inherited) for s in steps])
