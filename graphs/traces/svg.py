"""The SVG parts of the HTML trace report: the graph with the path taken, and the per-iteration
chart (best median time and speedup when timed; accepted/rejected bars otherwise)."""

from __future__ import annotations

from typing import Any

from kernelwright.graphs.traces.escape import _e

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

