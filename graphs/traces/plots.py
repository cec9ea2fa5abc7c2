"""The report charts, drawn with matplotlib (Agg, no display): the roofline of a problem with the
candidates' points per round, progress per round, the graph with the path a run took, and the
bench's speedups. Each returns a `Figure`; `svg_data_uri` / `png_bytes` serialise it, so pages
embed charts as `<img src="data:image/svg+xml;base64,...">` (no ids shared between charts, and
the page's Content-Security-Policy allows images from data: only).
"""

from __future__ import annotations

import base64
import dataclasses
import io

import matplotlib

matplotlib.use("Agg")  # no display; set before pyplot is imported anywhere
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from kernelwright.graphs.traces.records import RooflineDigest, StoredJson  # noqa: E402

# Colours the browser tests look for in screenshots (tests/test_traces_html.py).
ROOF_COLOR = "#1f4e9c"
POINT_COLORS = ("#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285")
TAKEN, UNTAKEN = "#e8590c", "#c3c9d6"
EAGER_COLOR, COMPILE_COLOR = "#3465a4", "#e67e22"
ZERO_FLOP_AI = 0.01  # where a problem without flops (a copy) is placed on the intensity axis


def svg_data_uri(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue().encode()).decode()


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def save(fig: Figure, path_without_suffix, dpi: int = 110) -> dict[str, str]:
    """The figure as PATH.svg and PATH.png; returns {"svg": path, "png": path}."""
    from pathlib import Path

    base = Path(path_without_suffix)
    fig.savefig(base.with_suffix(".svg"), format="svg", bbox_inches="tight", metadata={"Date": None})
    fig.savefig(base.with_suffix(".png"), format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return {"svg": str(base.with_suffix(".svg")), "png": str(base.with_suffix(".png"))}


# -- roofline ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RooflinePoint:
    """A timed, accepted candidate on the roofline chart."""

    candidate: str
    round: int
    ms: float
    flops_per_s: float


def roofline_points(attempts: list[StoredJson], roofline: RooflineDigest) -> list[RooflinePoint]:
    """Accepted, timed attempts (their digests, as a step summary or a bench result stores them)
    as roofline points: achieved FLOP/s (for a problem without flops, the bytes' rate times the
    plotted intensity, i.e. the same fraction of the memory roof)."""
    flops, nbytes = roofline.flops or 0, roofline.bytes or 0
    ai = flops / nbytes if flops and nbytes else ZERO_FLOP_AI
    out = []
    for a in attempts:
        ms, iteration = a.get("median_ms"), a.get("iteration")
        if a.get("verdict") == "accepted" and isinstance(ms, (int, float)) and ms > 0 and nbytes:
            out.append(RooflinePoint(candidate=str(a.get("candidate_id")), round=iteration if isinstance(iteration, int) else 0, ms=ms,
                                     flops_per_s=ai * nbytes / (ms / 1e3)))
    return out


def roofline_figure(roofline: RooflineDigest, points: list[RooflinePoint], title: str) -> Figure | None:
    """Attainable FLOP/s against arithmetic intensity: the device's memory and compute roofs, the
    problem's intensity, and each timed candidate (colour = round). None without peaks."""
    bw, peak = roofline.bandwidth_Bps, roofline.peak_flops
    if not bw or not peak:
        return None
    flops, nbytes = roofline.flops or 0, roofline.bytes or 0
    ai = flops / nbytes if flops and nbytes else ZERO_FLOP_AI
    ridge = peak / bw
    lo, hi = min(ai, ridge) / 100, max(ai, ridge) * 100
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    ax.loglog(xs, [min(peak, x * bw) for x in xs], color=ROOF_COLOR, linewidth=2.4, label="roof (peak bandwidth, peak FLOP/s)")
    ax.axvline(ai, color="#868e96", linestyle="--", linewidth=1)
    sol = min(peak, ai * bw)
    ax.annotate(f"problem AI {ai:.3g} flop/B" + (" (no flops)" if not flops else ""), (ai, sol), textcoords="offset points",
                xytext=(6, -14), fontsize=8, color="#495057")
    rounds = sorted({p.round for p in points})
    for k, r in enumerate(rounds):
        mine = [p for p in points if p.round == r]
        ax.scatter([ai] * len(mine), [p.flops_per_s for p in mine], s=46, zorder=3,
                   color=POINT_COLORS[k % len(POINT_COLORS)], label=f"round {r}: " + ", ".join(p.candidate for p in mine))
    if not points:
        ax.text(0.5, 0.08, "no timed candidate (the CPU checks correctness, it does not time)", transform=ax.transAxes,
                ha="center", fontsize=8.5, color="#862e9c")
    ax.set_title(f"{title}: roofline on {roofline.peaks.gpu or 'the device'}", fontsize=10)
    ax.set_xlabel("arithmetic intensity (flop / byte)", fontsize=9)
    ax.set_ylabel("FLOP/s", fontsize=9)
    ax.grid(True, which="major", color="#e9ecef")
    ax.legend(fontsize=7.5, loc="upper left")
    return fig


# -- progress per round -------------------------------------------------------------------------

@dataclasses.dataclass
class RoundRow:
    """One round of the progress chart: accepted/rejected counts, the best so far."""

    iteration: int
    accepted: int = 0
    rejected: int = 0
    best_median_ms: float | None = None
    best_speedup: float | None = None


def rounds_figure(rows: list[RoundRow]) -> Figure:
    """Per round: the best median time and speedup when timed, else accepted/rejected counts."""
    timed = [r for r in rows if r.best_median_ms is not None]
    if timed:
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.1))
        left.plot([r.iteration for r in timed], [r.best_median_ms for r in timed], marker="o", color="#2563eb")
        left.set_title("best median time per round (ms)", fontsize=10)
        sped = [r for r in rows if r.best_speedup is not None]
        right.plot([r.iteration for r in sped], [r.best_speedup for r in sped], marker="o", color="#16a34a")
        right.set_title("best speedup vs eager per round", fontsize=10)
        for ax in (left, right):
            ax.set_xlabel("round", fontsize=9)
            ax.grid(True, color="#e9ecef")
        return fig
    fig, ax = plt.subplots(figsize=(6.4, 2.8))
    xs = [r.iteration for r in rows]
    ax.bar(xs, [r.accepted for r in rows], color="#3aa55d", label="accepted")
    ax.bar(xs, [r.rejected for r in rows], bottom=[r.accepted for r in rows], color="#d9534f", label="rejected")
    ax.set_title("candidates per round: accepted / rejected (not timed)", fontsize=10)
    ax.set_xlabel("round", fontsize=9)
    ax.set_xticks(xs)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
    return fig


# -- the graph and the path taken -----------------------------------------------------------------

BASE_NODES: dict[str, tuple[float, float]] = {
    "plan": (0, 1), "code": (1, 1), "check": (2, 1), "profile": (3, 1), "analyze": (4, 1), "finish": (5, 1), "debug": (2, 0),
}
BASE_EDGES = [("plan", "code"), ("code", "check"), ("check", "debug"), ("debug", "check"), ("check", "profile"),
              ("check", "plan"), ("check", "finish"), ("profile", "analyze"), ("analyze", "plan"), ("analyze", "finish")]


def graph_figure(seq: list[str]) -> Figure:
    """The agent graph, the nodes a run visited (in order) and the edges it took (orange, with counts)."""
    pos = dict(BASE_NODES)
    for k, node in enumerate(n for n in dict.fromkeys(seq) if n not in pos):
        pos[node] = (3 + k, 0)  # added roles and approval nodes on the lower row
    taken: dict[tuple[str, str], int] = {}
    for a, b in zip(seq, seq[1:]):
        taken[(a, b)] = taken.get((a, b), 0) + 1
    fig, ax = plt.subplots(figsize=(max(8.0, 1.5 * (max(x for x, _ in pos.values()) + 1)), 2.7))
    for a, b in dict.fromkeys(BASE_EDGES + list(taken)):
        if a not in pos or b not in pos:
            continue
        (x1, y1), (x2, y2) = pos[a], pos[b]
        count = taken.get((a, b), 0)
        bend = 0.0 if abs(x2 - x1) <= 1 and y1 == y2 else (0.35 if x2 > x1 else -0.35)
        if (a, b) in (("check", "debug"), ("debug", "check")):
            bend = 0.25
        ax.add_patch(FancyArrowPatch((x1, y1), (x2, y2), connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>", mutation_scale=12,
                                     shrinkA=24, shrinkB=24, color=TAKEN if count else UNTAKEN, linewidth=2.2 if count else 1))
        if count:
            ax.text((x1 + x2) / 2, (y1 + y2) / 2 + (0.28 if bend >= 0 else -0.3) * (1 if y1 == y2 else 0.5), f"{count}x",
                    fontsize=8, color="#b34700", ha="center")
    for node, (x, y) in pos.items():
        seen = seq.count(node)
        ax.add_patch(FancyBboxPatch((x - 0.36, y - 0.17), 0.72, 0.34, boxstyle="round,pad=0.02",
                                    facecolor="#fff4e6" if seen else "#f3f4f8", edgecolor=TAKEN if seen else UNTAKEN, linewidth=1.6))
        ax.text(x, y + 0.03, node, ha="center", va="center", fontsize=9, fontweight="bold", color="#7a2e00" if seen else "#8a93a6")
        ax.text(x, y - 0.1, f"{seen}x" if seen else "", ha="center", va="center", fontsize=7, color="#7a2e00")
    ax.set_xlim(-0.6, max(x for x, _ in pos.values()) + 0.6)
    ax.set_ylim(-0.5, 1.55)
    ax.axis("off")
    return fig
