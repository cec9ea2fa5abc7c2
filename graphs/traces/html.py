"""`render_html(run)`: one self-contained HTML report of a traced run (`traces export --html`,
`traces serve`), from the Jinja2 template graphs/traces/templates/trace.html.j2.

The input is `traces_cli.show_run`'s dict (plus, optionally, candidate sources by id). This module
prepares what the template shows: the accepted solution (highlighted), the roofline with the
timed candidates per round, the graph and the path taken, progress per round (matplotlib, as
data: images), and a panel per step (prompt, answer, code and diff, verdicts with reasons,
profile). Escaping is the template's (autoescape); see graphs/traces/render.py.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from kernelwright.graphs.traces import plots
from kernelwright.graphs.traces.render import diff_html, render

# -- candidates -------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


def load_sources(run: dict[str, Any], home: Path | None) -> dict[str, str]:
    """Candidate sources by id: the run folder's candidates/<id>.py (written by the check node);
    for any that is missing, a fenced code block of a code/debug step's LLM response whose
    sha256 matches the candidate's recorded hash."""
    sources: dict[str, str] = {}
    if home is not None:
        folder = Path(home) / "runs" / run["run_id"] / "candidates"
        if folder.is_dir():
            for path in sorted(folder.glob("*.py")):
                sources[path.stem] = path.read_text(errors="replace")
    for step in run.get("steps", []):
        pending = (step.get("summary") or {}).get("pending") or []
        missing = {c["sha"]: c["id"] for c in pending if c.get("id") not in sources and c.get("sha")}
        if not missing:
            continue
        for call in step.get("llm") or []:
            for block in _FENCE.findall(call.get("response") or ""):
                for text in (block, block.strip() + "\n", block.strip()):
                    sha = hashlib.sha256(text.encode()).hexdigest()[:16]
                    if sha in missing:
                        sources[missing.pop(sha)] = text
                        break
    return sources


def candidate_lineage(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every candidate in order of appearance: id, step index, parent_id, sha, and `previous`:
    the candidate it is diffed against (its parent if it has one, else the last earlier
    candidate of the same slot `-cN`, i.e. the same lineage in an earlier round)."""
    out: list[dict[str, Any]] = []
    last_in_slot: dict[str, str] = {}
    for step in run.get("steps", []):
        for cand in (step.get("summary") or {}).get("pending") or []:
            cid = cand.get("id")
            if not cid:
                continue
            slot_m = re.match(r"r\d+-(c\d+)", cid)
            slot = slot_m.group(1) if slot_m else None
            previous = cand.get("parent_id") or (last_in_slot.get(slot) if slot else None)
            out.append({"id": cid, "step": step["index"], "parent_id": cand.get("parent_id"), "sha": cand.get("sha"), "previous": previous})
            if slot:
                last_in_slot[slot] = cid
    return out


def _origin(run: dict[str, Any]) -> str:
    """Where a forked or replayed run came from (`kernelwright run --fork / --replay`)."""
    fork, replay = run.get("forked_from"), run.get("replay_of")
    parts = [f"fork of {fork['run_id']} after step {fork['step']} (steps 0-{fork['step']} are that run's)"] if fork else []
    parts += [f"replay of {replay} (its recorded LLM answers)"] if replay else []
    return "; ".join(parts) or "a new run"


def iterations(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Per round: accepted/rejected counts, the best median time and speedup so far."""
    rounds: dict[int, dict[str, Any]] = {}
    current, best_ms, best_speed = 0, None, None
    for step in run.get("steps", []):
        summary = step.get("summary") or {}
        if isinstance(summary.get("iteration"), int):
            current = summary["iteration"]
        row = rounds.setdefault(current, {"iteration": current, "accepted": 0, "rejected": 0, "best_median_ms": None, "best_speedup": None})
        for attempt in summary.get("attempts") or []:
            if attempt.get("verdict") == "accepted":
                row["accepted"] += 1
                eager = (attempt.get("speedup") or {}).get("eager") if isinstance(attempt.get("speedup"), dict) else None
                if isinstance(eager, (int, float)):
                    best_speed = eager if best_speed is None else max(best_speed, eager)
            else:
                row["rejected"] += 1
        best = summary.get("best")
        if isinstance(best, dict) and isinstance(best.get("median_ms"), (int, float)):
            best_ms = best["median_ms"] if best_ms is None else min(best_ms, best["median_ms"])
        row["best_median_ms"], row["best_speedup"] = best_ms, best_speed
    return [rounds[k] for k in sorted(rounds) if k > 0 or rounds[k]["accepted"] or rounds[k]["rejected"]]


def _attempts(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**a, "iteration": a.get("iteration") or int((re.match(r"r(\d+)", a.get("candidate_id") or "") or [0, 0])[1])}
            for step in run.get("steps", []) for a in (step.get("summary") or {}).get("attempts") or []]


def _roofline(run: dict[str, Any]) -> tuple[str | None, str]:
    """The roofline chart (data: URI) and its caption, from the roofline the checks reported."""
    attempts = _attempts(run)
    roofline = next((a["roofline"] for a in reversed(attempts) if a.get("roofline")), None)
    for step in run.get("steps", []):
        profiled = ((step.get("summary") or {}).get("profile") or {}).get("roofline")
        roofline = profiled or roofline
    if not roofline:
        return None, ""
    points = plots.roofline_points(attempts, roofline)
    name = Path(str(run.get("problem") or "")).stem
    fig = plots.roofline_figure(roofline, points, name)
    if fig is None:
        return None, ""
    peaks = roofline.get("peaks") or {}
    caption = (f"{len(points)} timed candidate(s); speed of light {roofline.get('t_sol_ms', 0):.4g} ms ({roofline.get('bound', '?')}-bound); "
               f"peaks: {peaks.get('source') or 'measured'}")
    return plots.svg_data_uri(fig), caption


def _step_view(step: dict[str, Any], sources: dict[str, str], lineage: dict[str, dict[str, Any]], verdicts: dict[str, str]) -> dict[str, Any]:
    from kernelwright.agents.cost import total_cost

    calls = step.get("llm") or []
    candidates = []
    for cand in (step.get("summary") or {}).get("pending") or []:
        cid = cand.get("id")
        prev = (lineage.get(cid) or {}).get("previous")
        code = sources.get(cid)
        diff = diff_html(sources[prev], code, prev, cid) if code is not None and prev in sources else None
        candidates.append({"id": cid, "parent_id": cand.get("parent_id"), "sha": cand.get("sha"), "source": code, "previous": prev,
                           "previous_missing": bool(prev) and prev not in sources, "diff": diff, "verdict": verdicts.get(cid),
                           "open": False})
    return {**step, "summary": step.get("summary") or {}, "candidates": candidates, "cost": total_cost(c.get("cost_usd") for c in calls),
            "tokens": sum(int((c.get("usage") or {}).get("total_tokens") or 0) for c in calls)}


def accepted_source(run: dict[str, Any], sources: dict[str, str], home: Path | None) -> str | None:
    """The accepted kernel's code: its candidate file or trace answer, else the run's solution.py."""
    best = run.get("best") or {}
    if best.get("candidate_id") in sources:
        return sources[best["candidate_id"]]
    if home is not None and best:
        path = Path(home) / "runs" / run["run_id"] / "solution.py"
        if path.is_file():
            return path.read_text(errors="replace")
    return None


def render_html(run: dict[str, Any], sources: dict[str, str] | None = None, home: Path | None = None, refresh_s: int | None = None) -> str:
    """The whole report as one HTML string. `run`: `show_run`'s dict; `sources`: candidate id ->
    source (see `load_sources`); without it, sources are recovered from the LLM answers only.
    `refresh_s`: reload the page this often (`traces serve` while a run goes on)."""
    if sources is None:
        sources = load_sources(run, home)
    lineage = {c["id"]: c for c in candidate_lineage(run)}
    verdicts = {a.get("candidate_id"): a.get("verdict") for a in _attempts(run)}
    steps = [_step_view(s, sources, lineage, verdicts) for s in run.get("steps", [])]
    rows = iterations(run)
    timed = any(r["best_median_ms"] is not None for r in rows)
    roofline_uri, roofline_caption = _roofline(run)
    status = run.get("status") or "?"
    return render(
        "trace.html.j2", title=f"kernelwright run {run.get('run_id')}", run=run, steps=steps, refresh_s=refresh_s,
        problem_name=Path(str(run.get("problem") or "")).name, origin=_origin(run), usage=run.get("usage") or {},
        best=run.get("best"), solution=accepted_source(run, sources, home),
        device=str(((run.get("config") or {}).get("check") or {}).get("device", "-")),
        status_class="ok" if status == "finished" and run.get("accepted") else "bad" if status == "failed" else "warn",
        roofline_uri=roofline_uri, roofline_caption=roofline_caption,
        graph_uri=plots.svg_data_uri(plots.graph_figure(run.get("steps", []))),
        rounds_uri=plots.svg_data_uri(plots.rounds_figure(rows)) if rows else None, timed=timed,
    )
