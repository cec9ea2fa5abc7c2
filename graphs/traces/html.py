"""`render_html(run)`: one self-contained HTML report of a traced run (`traces export --html`,
`traces serve`), from the Jinja2 template graphs/traces/templates/trace.html.j2.

The input is `traces_cli.show_run`'s dict (plus, optionally, candidate sources by id). This module
prepares what the template shows: the accepted solution (highlighted), the roofline with the
timed candidates per round, the graph and the path taken, progress per round (matplotlib, as
data: images), and a panel per step (prompt, answer, code and diff, verdicts with reasons,
profile). Escaping is the template's (autoescape); see graphs/traces/render.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

from markupsafe import Markup

from kernelwright.graphs.traces import plots
from kernelwright.graphs.traces.plots import RoundRow
from kernelwright.graphs.traces.records import RooflineDigest, RunShown, StepShown, StoredJson, ToolUse
from kernelwright.graphs.traces.render import diff_html, render

# -- candidates -------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


def _digests(step: StepShown, key: str) -> list[StoredJson]:
    """The step summary's list under `key` (pending candidates, attempts), as stored."""
    value = step.summary.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def load_sources(run: RunShown, home: Path | None) -> dict[str, str]:
    """Candidate sources by id: the run folder's candidates/<id>.py (written by the check node);
    for any that is missing, a fenced code block of a code/debug step's LLM response whose
    sha256 matches the candidate's recorded hash."""
    sources: dict[str, str] = {}
    if home is not None:
        folder = Path(home) / "runs" / run.run_id / "candidates"
        if folder.is_dir():
            for path in sorted(folder.glob("*.py")):
                sources[path.stem] = path.read_text(errors="replace")
    for step in run.steps:
        missing = {c["sha"]: c["id"] for c in _digests(step, "pending") if c.get("id") not in sources and c.get("sha")}
        if not missing:
            continue
        for call in step.llm or []:
            for block in _FENCE.findall(_text(call.get("response")) or ""):
                for text in (block, block.strip() + "\n", block.strip()):
                    sha = hashlib.sha256(text.encode()).hexdigest()[:16]
                    if sha in missing:
                        sources[missing.pop(sha)] = text
                        break
    return sources


@dataclasses.dataclass(frozen=True)
class LineageEntry:
    id: str
    step: int  # the step index that produced it
    parent_id: str | None
    sha: str | None
    previous: str | None  # the candidate it is diffed against


def candidate_lineage(run: RunShown) -> list[LineageEntry]:
    """Every candidate in order of appearance: id, step index, parent_id, sha, and `previous`:
    the candidate it is diffed against (its parent if it has one, else the last earlier
    candidate of the same slot `-cN`, i.e. the same lineage in an earlier round)."""
    out: list[LineageEntry] = []
    last_in_slot: dict[str, str] = {}
    for step in run.steps:
        for cand in _digests(step, "pending"):
            cid = _text(cand.get("id"))
            if not cid:
                continue
            slot_m = re.match(r"r\d+-(c\d+)", cid)
            slot = slot_m.group(1) if slot_m else None
            parent = _text(cand.get("parent_id"))
            previous = parent or (last_in_slot.get(slot) if slot else None)
            out.append(LineageEntry(cid, step.index, parent, _text(cand.get("sha")), previous))
            if slot:
                last_in_slot[slot] = cid
    return out


def _origin(run: RunShown) -> str:
    """Where a forked or replayed run came from (`kernelwright run --fork / --replay`)."""
    fork, replay = run.forked_from, run.replay_of
    parts = [f"fork of {fork.run_id} after step {fork.step} (steps 0-{fork.step} are that run's)"] if fork else []
    parts += [f"replay of {replay} (its recorded LLM answers)"] if replay else []
    return "; ".join(parts) or "a new run"


def iterations(run: RunShown) -> list[RoundRow]:
    """Per round: accepted/rejected counts, the best median time and speedup so far."""
    rounds: dict[int, RoundRow] = {}
    current, best_ms, best_speed = 0, None, None
    for step in run.steps:
        summary = step.summary
        if isinstance(summary.get("iteration"), int):
            current = summary["iteration"]
        row = rounds.setdefault(current, RoundRow(current))
        for attempt in _digests(step, "attempts"):
            if attempt.get("verdict") == "accepted":
                row.accepted += 1
                speedup = attempt.get("speedup")
                eager = speedup.get("eager") if isinstance(speedup, dict) else None
                if isinstance(eager, (int, float)):
                    best_speed = eager if best_speed is None else max(best_speed, eager)
            else:
                row.rejected += 1
        best = summary.get("best")
        if isinstance(best, dict) and isinstance(best.get("median_ms"), (int, float)):
            best_ms = best["median_ms"] if best_ms is None else min(best_ms, best["median_ms"])
        row.best_median_ms, row.best_speedup = best_ms, best_speed
    return [rounds[k] for k in sorted(rounds) if k > 0 or rounds[k].accepted or rounds[k].rejected]


def _attempts(run: RunShown) -> list[StoredJson]:
    """The attempts' digests of every step, each with its round (from the id where not stored)."""
    return [{**a, "iteration": a.get("iteration") or int((re.match(r"r(\d+)", _text(a.get("candidate_id")) or "") or [0, 0])[1])}
            for step in run.steps for a in _digests(step, "attempts")]


def _roofline(run: RunShown) -> tuple[str | None, str]:
    """The roofline chart (data: URI) and its caption, from the roofline the checks reported."""
    attempts = _attempts(run)
    stored = next((a["roofline"] for a in reversed(attempts) if a.get("roofline")), None)
    for step in run.steps:
        profile = step.summary.get("profile")
        profiled = profile.get("roofline") if isinstance(profile, dict) else None
        stored = profiled or stored
    roofline = RooflineDigest.of(stored) if isinstance(stored, dict) else None
    if not roofline:
        return None, ""
    points = plots.roofline_points(attempts, roofline)
    name = Path(run.problem).stem
    fig = plots.roofline_figure(roofline, points, name)
    if fig is None:
        return None, ""
    caption = (f"{len(points)} timed candidate(s); speed of light {roofline.t_sol_ms or 0:.4g} ms ({roofline.bound or '?'}-bound); "
               f"peaks: {roofline.peaks.source or 'measured'}")
    return plots.svg_data_uri(fig), caption


@dataclasses.dataclass(frozen=True)
class CandidatePanel:
    """A candidate as a step's panel shows it: its code and the diff against the one before."""

    id: str | None
    parent_id: str | None
    sha: str | None
    source: str | None
    previous: str | None
    previous_missing: bool
    diff: Markup | None
    verdict: str | None
    open: bool = False


@dataclasses.dataclass(frozen=True)
class StepPanel:
    """A step as the report's panel shows it (`StepShown` and what the page adds)."""

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
    inherited: bool
    candidates: list[CandidatePanel]
    cost: float | None
    tokens: int


def _step_view(step: StepShown, sources: dict[str, str], lineage: dict[str, LineageEntry], verdicts: dict[str | None, str | None]) -> StepPanel:
    from kernelwright.agents.cost import total_cost

    calls = step.llm or []
    candidates = []
    for cand in _digests(step, "pending"):
        cid = _text(cand.get("id"))
        entry = lineage.get(cid or "")
        prev = entry.previous if entry else None
        code = sources.get(cid or "")
        diff = diff_html(sources[prev], code, prev, cid or "") if code is not None and prev in sources else None
        candidates.append(CandidatePanel(id=cid, parent_id=_text(cand.get("parent_id")), sha=_text(cand.get("sha")), source=code, previous=prev,
                                         previous_missing=bool(prev) and prev not in sources, diff=diff, verdict=verdicts.get(cid)))
    return StepPanel(**{name: getattr(step, name) for name in StepShown.model_fields}, candidates=candidates,
                     cost=total_cost(c.get("cost_usd") for c in calls), tokens=step.token_count())


def accepted_source(run: RunShown, sources: dict[str, str], home: Path | None) -> str | None:
    """The accepted kernel's code: its candidate file or trace answer, else the run's solution.py."""
    best = run.best or {}
    candidate = _text(best.get("candidate_id"))
    if candidate in sources:
        return sources[candidate]
    if home is not None and best:
        path = Path(home) / "runs" / run.run_id / "solution.py"
        if path.is_file():
            return path.read_text(errors="replace")
    return None


def render_html(run: RunShown, sources: dict[str, str] | None = None, home: Path | None = None, refresh_s: int | None = None) -> str:
    """The whole report as one HTML string. `run`: `show_run`'s record; `sources`: candidate id ->
    source (see `load_sources`); without it, sources are recovered from the LLM answers only.
    `refresh_s`: reload the page this often (`traces serve` while a run goes on)."""
    if sources is None:
        sources = load_sources(run, home)
    lineage = {c.id: c for c in candidate_lineage(run)}
    verdicts = {_text(a.get("candidate_id")): _text(a.get("verdict")) for a in _attempts(run)}
    steps = [_step_view(s, sources, lineage, verdicts) for s in run.steps]
    rows = iterations(run)
    timed = any(r.best_median_ms is not None for r in rows)
    roofline_uri, roofline_caption = _roofline(run)
    check = run.config.get("check")
    return render(
        "trace.html.j2", title=f"kernelwright run {run.run_id}", run=run, steps=steps, refresh_s=refresh_s,
        problem_name=Path(run.problem).name, origin=_origin(run), usage=run.usage,
        best=run.best, solution=accepted_source(run, sources, home),
        device=str((check if isinstance(check, dict) else {}).get("device", "-")),
        status_class="ok" if run.status == "finished" and run.accepted else "bad" if run.status == "failed" else "warn",
        roofline_uri=roofline_uri, roofline_caption=roofline_caption,
        graph_uri=plots.svg_data_uri(plots.graph_figure([s.node for s in run.steps])),
        rounds_uri=plots.svg_data_uri(plots.rounds_figure(rows)) if rows else None, timed=timed,
    )
