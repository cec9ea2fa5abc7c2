"""`render_html(run)`: one self-contained HTML report of a traced run (`traces export --html`).

The input is `traces_cli.show_run`'s dict (plus, optionally, candidate sources by id). The page
needs no network: inline CSS, inline SVG (the graph with the path taken, the per-iteration chart)
and one tiny inline script (expand/collapse all) whose hash is the only script the page's
Content-Security-Policy allows, so even a failure to escape could not run injected code. Every
string from the trace (model output included) is HTML-escaped.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import time
from html import escape
from pathlib import Path
from typing import Any

# The base graph (graphs/graph.py BASE_EDGES), with fixed positions for the drawing.
BASE_NODES: dict[str, tuple[int, int]] = {
    "plan": (70, 95), "code": (200, 95), "check": (330, 95), "profile": (460, 95),
    "analyze": (590, 95), "finish": (720, 95), "debug": (330, 215),
}
BASE_EDGES: list[tuple[str, str]] = [
    ("plan", "code"), ("code", "check"), ("check", "debug"), ("debug", "check"), ("check", "profile"),
    ("check", "plan"), ("check", "finish"), ("profile", "analyze"), ("analyze", "plan"), ("analyze", "finish"),
]
NODE_W, NODE_H = 96, 36

_SCRIPT = ("document.documentElement.setAttribute('data-kw-ready','1');"
           "function kwAll(o){document.querySelectorAll('details').forEach(function(d){d.open=o;});}"
           "document.getElementById('kw-open').onclick=function(){kwAll(true);};"
           "document.getElementById('kw-close').onclick=function(){kwAll(false);};")

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
main{max-width:1120px;margin:0 auto;padding:18px 24px 60px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #d7dbe6;padding-bottom:4px}
.sub{color:#5b6476;margin:0 0 12px}
table.kv{border-collapse:collapse;background:#fff;border:1px solid #d7dbe6;width:100%}
table.kv th,table.kv td{text-align:left;padding:5px 10px;border-bottom:1px solid #eceef4;vertical-align:top}
table.kv th{width:170px;color:#49526a;font-weight:600;background:#fafbfd}
table.grid{border-collapse:collapse;margin:6px 0}table.grid th,table.grid td{border:1px solid #d7dbe6;padding:3px 8px;text-align:left}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;margin-right:4px}
.ok{background:#d9f2df;color:#17612b}.bad{background:#fadcdc;color:#8c1d1d}.neutral{background:#e4e8f2;color:#33405c}
.warn{background:#fff1cc;color:#7a5300}
.card{background:#fff;border:1px solid #d7dbe6;border-radius:8px;padding:10px 14px;margin:8px 0}
ol.steps{list-style:none;padding:0;margin:0}
ol.steps>li{margin:6px 0}
details.step{background:#fff;border:1px solid #d7dbe6;border-radius:8px}
details.step>summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
details.step>summary::before{content:"\\25B8";color:#8a93a6;width:10px}details.step[open]>summary::before{content:"\\25BE"}
details.step[open]>summary{border-bottom:1px solid #eceef4;background:#fafbfd}
details.step .body{padding:8px 14px 12px}
details.step.error{border-color:#d98c8c}
.idx{font-family:ui-monospace,Menlo,Consolas,monospace;color:#5b6476;min-width:34px}
.node{font-weight:700;min-width:80px}.role{color:#49526a;min-width:80px}.dur{font-family:ui-monospace,Menlo,monospace;min-width:70px;text-align:right}
pre{background:#f3f4f8;border:1px solid #e1e4ec;border-radius:6px;padding:8px 10px;overflow:auto;max-height:460px;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word;margin:4px 0}
pre.diff span{display:block}.add{background:#e3f6e6;color:#155724}.del{background:#fbe4e4;color:#7c1c1c}.hunk{color:#6a4fb3}
details.inner{margin:6px 0;border-left:3px solid #c9d0e0;padding-left:10px}
details.inner>summary{cursor:pointer;font-weight:600;color:#33405c}
.msg-role{font-size:12px;font-weight:700;color:#5b6476;text-transform:uppercase;margin-top:6px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.path{font-family:ui-monospace,Menlo,monospace;font-size:13px}
.path a{color:#1d4ed8;text-decoration:none}
button{font:inherit;padding:3px 10px;margin-right:6px;border:1px solid #b9c0d2;background:#fff;border-radius:6px;cursor:pointer}
.note{color:#5b6476;font-size:13px}
"""


def _e(value: Any) -> str:
    """Escape anything for HTML text or attribute context."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    return escape(value, quote=True)


def _pre(value: Any, cls: str = "") -> str:
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, default=str)
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{_e(value)}</pre>"


def _tokens(calls: list[dict[str, Any]] | None) -> int:
    return sum(int((c.get("usage") or {}).get("total_tokens") or 0) for c in calls or [])


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def _speedup(speed: Any) -> str:
    if isinstance(speed, dict) and speed:
        return ", ".join(f"{k} {v:.2f}x" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in speed.items())
    return "-" if speed in (None, {}) else str(speed)


def _verdict_badge(verdict: str) -> str:
    cls = "ok" if verdict == "accepted" else "bad"
    return f'<span class="badge {cls}">{_e(verdict)}</span>'


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


def _diff_html(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))
    if not lines:
        return '<p class="note">identical source</p>'
    rows = []
    for line in lines:
        cls = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        rows.append(f'<span class="{cls}">{_e(line) or " "}</span>' if cls else f"<span>{_e(line) or ' '}</span>")
    return '<pre class="diff">' + "".join(rows) + "</pre>"


# -- iterations and the chart ------------------------------------------------------------------

def iterations(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Per iteration (round): accepted/rejected counts, the best median time and speedup so far."""
    rounds: dict[int, dict[str, Any]] = {}
    current = 0
    best_ms: float | None = None
    best_speed: float | None = None
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


def _line_chart(rows: list[dict[str, Any]], key: str, title: str, unit: str, color: str) -> str:
    pts = [(r["iteration"], r[key]) for r in rows if r[key] is not None]
    if not pts:
        return ""
    w, h, left, right, top, bottom = 520, 230, 58, 16, 30, 40
    xs = [p[0] for p in pts]
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    lo, hi = (0.0, hi * 1.15) if hi > 0 else (lo * 1.15, 0.0)
    if hi == lo:
        hi = lo + 1
    x0, x1 = min(xs), max(xs)

    def px(i: float) -> float:
        return left + ((i - x0) / (x1 - x0) if x1 > x0 else 0.5) * (w - left - right)

    def py(v: float) -> float:
        return top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom)

    parts = [f'<svg class="chart" data-chart="{_e(key)}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{_e(title)}">',
             f'<rect x="0" y="0" width="{w}" height="{h}" fill="#fff" stroke="#d7dbe6"/>',
             f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">{_e(title)}</text>']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#eceef4"/>')
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6476">{v:.3g}</text>')
    for i in sorted(set(xs)):
        parts.append(f'<text x="{px(i):.1f}" y="{h - bottom + 16}" text-anchor="middle" font-size="11" fill="#5b6476">{i}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 6}" text-anchor="middle" font-size="11" fill="#5b6476">iteration</text>')
    parts.append(f'<text x="14" y="{h / 2}" text-anchor="middle" font-size="11" fill="#5b6476" transform="rotate(-90 14 {h / 2})">{_e(unit)}</text>')
    path = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in pts)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>')
    for i, v in pts:
        parts.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="4" fill="{color}"><title>iteration {i}: {v:.4g} {_e(unit)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _bar_chart(rows: list[dict[str, Any]]) -> str:
    w, h, left, right, top, bottom = 520, 230, 44, 16, 30, 40
    top_v = max([r["accepted"] + r["rejected"] for r in rows] + [1])
    n = max(len(rows), 1)
    slot = (w - left - right) / n
    bw = min(60.0, slot * 0.6)

    def py(v: float) -> float:
        return top + (1 - v / top_v) * (h - top - bottom)

    parts = [f'<svg class="chart" data-chart="verdicts" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="accepted and rejected candidates per iteration">',
             f'<rect x="0" y="0" width="{w}" height="{h}" fill="#fff" stroke="#d7dbe6"/>',
             f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">candidates per iteration: accepted / rejected</text>']
    for k in range(top_v + 1):
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{py(k):.1f}" y2="{py(k):.1f}" stroke="#eceef4"/>')
        parts.append(f'<text x="{left - 6}" y="{py(k) + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6476">{k}</text>')
    for j, r in enumerate(rows):
        x = left + slot * j + (slot - bw) / 2
        acc_top, rej_top = py(r["accepted"]), py(r["accepted"] + r["rejected"])
        if r["accepted"]:
            parts.append(f'<rect class="bar-accepted" x="{x:.1f}" y="{acc_top:.1f}" width="{bw:.1f}" height="{py(0) - acc_top:.1f}" fill="#3aa55d"><title>iteration {r["iteration"]}: {r["accepted"]} accepted</title></rect>')
        if r["rejected"]:
            parts.append(f'<rect class="bar-rejected" x="{x:.1f}" y="{rej_top:.1f}" width="{bw:.1f}" height="{acc_top - rej_top:.1f}" fill="#d9534f"><title>iteration {r["iteration"]}: {r["rejected"]} rejected</title></rect>')
        parts.append(f'<text x="{x + bw / 2:.1f}" y="{h - bottom + 16}" text-anchor="middle" font-size="11" fill="#5b6476">{r["iteration"]}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 6}" text-anchor="middle" font-size="11" fill="#5b6476">iteration</text>')
    lx = w - right - 150
    parts.append(f'<rect x="{lx}" y="30" width="10" height="10" fill="#3aa55d"/><text x="{lx + 14}" y="39" font-size="11">accepted</text>')
    parts.append(f'<rect x="{lx + 75}" y="30" width="10" height="10" fill="#d9534f"/><text x="{lx + 89}" y="39" font-size="11">rejected</text>')
    parts.append("</svg>")
    return "".join(parts)


def chart_html(run: dict[str, Any]) -> str:
    rows = iterations(run)
    if not rows:
        return '<p class="note">No candidate was checked in this run: nothing to chart.</p>'
    timed = any(r["best_median_ms"] is not None or r["best_speedup"] is not None for r in rows)
    if timed:
        charts = _line_chart(rows, "best_median_ms", "best median time per iteration", "ms", "#2563eb")
        charts += _line_chart(rows, "best_speedup", "best speedup vs eager per iteration", "x eager", "#16a34a")
        return f'<div class="charts" style="display:flex;gap:12px;flex-wrap:wrap">{charts}</div>'
    device = (run.get("config") or {}).get("check", {}).get("device")
    return ('<p class="note" id="no-timing">No timing exists for this run'
            + (f" (device {_e(device)}: checks on the CPU verify correctness but do not time kernels)" if device else "")
            + ": the chart shows accepted and rejected candidates per iteration instead.</p>"
            + f'<div class="charts">{_bar_chart(rows)}</div>')


# -- the graph ---------------------------------------------------------------------------------

def graph_svg(run: dict[str, Any]) -> str:
    steps = run.get("steps", [])
    seq = [s["node"] for s in steps]
    visits: dict[str, int] = {}
    for n in seq:
        visits[n] = visits.get(n, 0) + 1
    pos = dict(BASE_NODES)
    extra = [n for n in dict.fromkeys(seq) if n not in pos]
    for k, n in enumerate(extra):
        pos[n] = (460 + 130 * k, 215)
    taken: dict[tuple[str, str], int] = {}
    for a, b in zip(seq, seq[1:]):
        taken[(a, b)] = taken.get((a, b), 0) + 1
    edges = list(dict.fromkeys(BASE_EDGES + list(taken)))
    width = max(800, max(x for x, _ in pos.values()) + NODE_W // 2 + 30)
    height = 275
    parts = [f'<svg id="graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="the agent graph and the path taken">',
             '<defs><marker id="arr" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#a3abbd"/></marker>'
             '<marker id="arr-t" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#e8590c"/></marker></defs>',
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff" stroke="#d7dbe6"/>']
    for a, b in edges:
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        count = taken.get((a, b), 0)
        # Leave and enter at the boxes' borders.
        dx, dy = x2 - x1, y2 - y1
        if dy == 0:
            sx, sy, ex, ey = x1 + (NODE_W / 2 if dx > 0 else -NODE_W / 2), y1, x2 - (NODE_W / 2 if dx > 0 else -NODE_W / 2), y2
        else:
            off = 14 if (a, b) in (("check", "debug"), ("debug", "check")) else 0
            off = -off if (a, b) == ("check", "debug") else off
            sx, sy = x1 + off, y1 + (NODE_H / 2 if dy > 0 else -NODE_H / 2)
            ex, ey = x2 + off, y2 - (NODE_H / 2 if dy > 0 else -NODE_H / 2)
        if dy == 0 and abs(dx) <= 130:
            d = f"M{sx:.0f},{sy:.0f} L{ex:.0f},{ey:.0f}"
            lx, ly = (sx + ex) / 2, sy - 6
        elif dy == 0:
            # Long edges arc: forward ones below, back edges above.
            bend = (1 if dx > 0 else -1) * min(40 + abs(dx) * 0.12, 95)
            sy2, ey2 = (y1 + NODE_H / 2, y2 + NODE_H / 2) if bend > 0 else (y1 - NODE_H / 2, y2 - NODE_H / 2)
            sx2, ex2 = x1 + (12 if dx > 0 else -12), x2 - (12 if dx > 0 else -12)
            cy = (sy2 + bend * 1.4) if bend > 0 else (sy2 + bend * 1.1)
            d = f"M{sx2:.0f},{sy2:.0f} Q{(sx2 + ex2) / 2:.0f},{cy:.0f} {ex2:.0f},{ey2:.0f}"
            lx, ly = (sx2 + ex2) / 2, (sy2 + cy) / 2 + (4 if bend > 0 else -2)
        else:
            d = f"M{sx:.0f},{sy:.0f} L{ex:.0f},{ey:.0f}"
            lx, ly = (sx + ex) / 2 + (10 if off >= 0 else -18), (sy + ey) / 2
        stroke, sw, mark = ("#e8590c", 2.6, "arr-t") if count else ("#c3c9d6", 1.3, "arr")
        dash = "" if (a, b) in BASE_EDGES or count else ' stroke-dasharray="4 3"'
        parts.append(f'<path class="edge{" taken" if count else ""}" d="{d}" fill="none" stroke="{stroke}" stroke-width="{sw}"{dash} marker-end="url(#{mark})"><title>{_e(a)} → {_e(b)}: taken {count}×</title></path>')
        if count:
            parts.append(f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#b34700" text-anchor="middle">{count}×</text>')
    for n, (x, y) in pos.items():
        seen = visits.get(n, 0)
        fill, stroke, color = ("#fff4e6", "#e8590c", "#7a2e00") if seen else ("#f3f4f8", "#c3c9d6", "#8a93a6")
        if n == "finish" and seen and run.get("status") == "finished":
            fill, stroke = "#e3f6e6", "#2f9e44"
        role = next((s.get("role") for s in steps if s["node"] == n), None)
        parts.append(f'<g class="node{" visited" if seen else ""}" data-node="{_e(n)}"><rect x="{x - NODE_W / 2}" y="{y - NODE_H / 2}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{2 if seen else 1}"/>'
                     f'<text x="{x}" y="{y + 1}" text-anchor="middle" font-size="13" font-weight="700" fill="{color}">{_e(n)}</text>'
                     f'<text x="{x}" y="{y + 13}" text-anchor="middle" font-size="9.5" fill="{color}">{_e(role or ("tool" if n in BASE_NODES else "role"))}{f" · {seen}×" if seen else ""}</text>'
                     f"<title>{_e(n)}: visited {seen}×</title></g>")
    parts.append("</svg>")
    path = " → ".join(f'<a href="#step-{s["index"]}">{_e(s["node"])}</a>' for s in steps)
    return ('<div style="overflow-x:auto">' + "".join(parts) + "</div>"
            + f'<p class="path" id="path"><b>Path taken ({len(steps)} steps):</b> {path or "no steps"}</p>')


# -- steps -------------------------------------------------------------------------------------

def _llm_html(calls: list[dict[str, Any]]) -> str:
    out = []
    for k, call in enumerate(calls):
        usage = call.get("usage") or {}
        head = (f"LLM call {k + 1}: {_e(call.get('role'))} · model {_e(call.get('model'))} · "
                f"{_e(usage.get('prompt_tokens', 0))} prompt + {_e(usage.get('completion_tokens', 0))} completion tokens · "
                f"{_e(_fmt_s(call.get('latency_s')))}")
        msgs = []
        for m in call.get("messages") or []:
            if isinstance(m, dict):
                role, content = m.get("role") or m.get("type") or "message", m.get("content")
            else:
                role, content = "message", m
            msgs.append(f'<div class="msg-role">{_e(role)}</div>{_pre(content if isinstance(content, str) else json.dumps(content, indent=2, default=str))}')
        out.append(f'<details class="inner llm"><summary>{head}</summary>'
                   f'<details class="inner"><summary>prompt ({len(call.get("messages") or [])} messages)</summary>{"".join(msgs)}</details>'
                   f'<div class="msg-role">response</div>{_pre(call.get("response") or "")}</details>')
    return "".join(out)


def _step_html(step: dict[str, Any], sources: dict[str, str], lineage: dict[str, dict[str, Any]]) -> str:
    summary = step.get("summary") or {}
    calls = step.get("llm") or []
    tokens = _tokens(calls)
    verdicts = step.get("verdicts") or []
    head = [f'<span class="idx">[{_e(step["index"])}]</span>', f'<span class="node">{_e(step["node"])}</span>',
            f'<span class="role">{_e(step.get("role") or "tool")}</span>', f'<span class="dur">{_e(_fmt_s(step.get("duration_s")))}</span>']
    head += [_verdict_badge(v) for v in verdicts]
    if calls:
        head.append(f'<span class="badge neutral">{len(calls)} LLM call{"s" if len(calls) != 1 else ""} · {tokens} tokens</span>')
    pending = summary.get("pending") or []
    if pending:
        head.append(f'<span class="badge neutral">{len(pending)} candidate{"s" if len(pending) != 1 else ""}</span>')
    if step.get("error"):
        head.append('<span class="badge bad">error</span>')
    body = []
    if step.get("error"):
        body.append(f'<div class="msg-role">error</div>{_pre(step["error"])}')
    for key in ("plan", "analysis"):
        if isinstance(summary.get(key), str):
            body.append(f'<div class="msg-role">{key}</div>{_pre(summary[key])}')
    if calls:
        body.append(_llm_html(calls))
    for cand in pending:
        cid = cand.get("id")
        info = lineage.get(cid, {})
        prev = info.get("previous")
        code = sources.get(cid)
        inner = [f'<p class="note">parent {_e(cand.get("parent_id") or "none")} · sha256 {_e(cand.get("sha"))}</p>']
        if code is None:
            inner.append('<p class="note">source not found (no candidates/ file in the run folder, no matching code in the responses)</p>')
        else:
            inner.append(f'<details class="inner"><summary>source ({len(code.splitlines())} lines)</summary>{_pre(code, "code")}</details>')
            if prev and prev in sources:
                inner.append(f'<details class="inner" open><summary>diff against {_e(prev)}</summary>{_diff_html(sources[prev], code, prev, cid)}</details>')
            elif prev:
                inner.append(f'<p class="note">previous candidate {_e(prev)}: source not found, no diff</p>')
            else:
                inner.append('<p class="note">first of its lineage: no diff</p>')
        body.append(f'<details class="inner cand" data-candidate="{_e(cid)}"><summary>candidate {_e(cid)}</summary>{"".join(inner)}</details>')
    tools = step.get("tools") or []
    if tools:
        rows = "".join(f"<tr><td>{_e(t.get('tool'))}</td><td>{_e(t.get('candidate'))}</td><td>{_verdict_badge(t.get('verdict') or '?')}</td><td>{_e(_fmt_s(t.get('wall_s')))}</td></tr>" for t in tools)
        body.append(f'<table class="grid tools"><tr><th>tool</th><th>candidate</th><th>verdict</th><th>wall</th></tr>{rows}</table>')
    attempts = summary.get("attempts") or []
    if attempts:
        rows = "".join(f"<tr><td>{_e(a.get('candidate_id'))}</td><td>{_verdict_badge(a.get('verdict') or '?')}</td><td>{_e(_speedup(a.get('speedup')))}</td></tr>" for a in attempts)
        body.append(f'<table class="grid verdicts"><tr><th>attempt</th><th>verdict</th><th>speedup</th></tr>{rows}</table>')
    body.append(f'<details class="inner"><summary>state update (summary)</summary>{_pre(summary)}</details>')
    started = step.get("started_at")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)) + " UTC" if started else "-"
    body.append(f'<p class="note">started {_e(when)}</p>')
    cls = "step error" if step.get("error") else "step"
    return (f'<li id="step-{_e(step["index"])}" data-node="{_e(step["node"])}"><details class="{cls}"><summary>{"".join(head)}</summary>'
            f'<div class="body">{"".join(body)}</div></details></li>')


# -- the page ----------------------------------------------------------------------------------

def _summary_table(run: dict[str, Any]) -> str:
    usage = run.get("usage") or {}
    best = run.get("best") or {}
    status = run.get("status") or "?"
    status_cls = "ok" if status == "finished" and run.get("accepted") else "bad" if status == "failed" else "warn"
    best_txt = (f"{best.get('candidate_id')} · {best.get('verdict')} · speedup {_speedup(best.get('speedup'))}"
                + (f" · median {best['median_ms']:.4g} ms" if isinstance(best.get("median_ms"), (int, float)) else " · no timing")
                if best else "none accepted")
    created = run.get("created_at")
    rows = [
        ("problem", _e(run.get("problem"))),
        ("status", f'<span class="badge {status_cls}">{_e(status)}</span> {"accepted" if run.get("accepted") else "nothing accepted"}'),
        ("stop reason", _e(run.get("stop_reason") or "-")),
        ("error", _e(run.get("error") or "-")),
        ("policy", _e(run.get("policy"))),
        ("model", _e(run.get("model") or "-")),
        ("device", _e((run.get("config") or {}).get("check", {}).get("device", "-"))),
        ("tokens", f"{_e(usage.get('total_tokens', 0))} total ({_e(usage.get('prompt_tokens', 0))} prompt, {_e(usage.get('completion_tokens', 0))} completion)"),
        ("wall time", _e(_fmt_s(run.get("wall_s")))),
        ("best", _e(best_txt)),
        ("steps", _e(len(run.get("steps", [])))),
        ("started", _e(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(created)) if created else "-")),
        ("versions", _e(", ".join(f"{k} {v}" for k, v in (run.get("versions") or {}).items()) or "-")),
    ]
    return '<table class="kv" id="summary">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def render_html(run: dict[str, Any], sources: dict[str, str] | None = None) -> str:
    """The whole report as one HTML string. `run`: `show_run`'s dict; `sources`: candidate id ->
    source (see `load_sources`); without it, sources are recovered from the LLM responses only."""
    if sources is None:
        sources = load_sources(run, None)
    lineage = {c["id"]: c for c in candidate_lineage(run)}
    steps = run.get("steps", [])
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'"
    title = f"kernelwright run {run.get('run_id')}"
    config = run.get("config") or {}
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(Path(str(run.get("problem") or "")).name)} · {_e(run.get("status"))} · {len(steps)} steps · '
        "exported by <code>kernelwright traces export</code></p>",
        "<h2>Summary</h2>", _summary_table(run),
        "<h2>Graph and path taken</h2>",
        '<p class="note">Orange: nodes visited and edges taken (with counts); grey: the rest of the graph.</p>',
        graph_svg(run),
        "<h2>Progress per iteration</h2>", chart_html(run),
        f'<h2>Steps ({len(steps)})</h2>',
        '<p><button id="kw-open" type="button">expand all</button><button id="kw-close" type="button">collapse all</button></p>',
        '<ol class="steps" id="steps">', "".join(_step_html(s, sources, lineage) for s in steps), "</ol>",
        f'<h2>Config</h2><details class="inner"><summary>run config</summary>{_pre(config)}</details>',
        f"</main><script>{_SCRIPT}</script></body></html>\n",
    ])
