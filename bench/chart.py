"""The bench's chart: one row per problem, its speedup against eager and against torch.compile as
bars on a log scale around 1x (right: faster, left: slower); problems without a speedup say why
(no kernel, rejected, not timed). Drawn with matplotlib (graphs/traces/plots.py), as SVG and PNG."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from kernelwright.bench.records import BenchResult
from kernelwright.bench.scoring import speedup_of
from kernelwright.graphs.traces.plots import COMPILE_COLOR, EAGER_COLOR, plt, save

SERIES = (("eager", "vs eager", EAGER_COLOR), ("compile", "vs torch.compile", COMPILE_COLOR))


def draw_chart(results: list[BenchResult], title: str, path: Path) -> dict[str, str]:
    """PATH.svg and PATH.png (PATH's own suffix is replaced); returns {"svg": ..., "png": ...}."""
    return save(speedup_figure(results, title), Path(path).with_suffix(""))


def speedup_figure(results: list[BenchResult], title: str) -> Figure:
    """One row per problem: speedup vs eager and vs torch.compile on a log2 axis around 1x;
    problems without a bar say why (no kernel, rejected, not timed)."""
    n = max(len(results), 1)
    fig, ax = plt.subplots(figsize=(9, 1.1 + 0.32 * n))
    speeds = [s for r in results for b in ("eager", "compile") if (s := speedup_of(r, b))]
    lo = min([0.25, *speeds]) / 1.2
    hi = max([4.0, *speeds]) * 1.2
    names = [r.problem for r in results]
    for i, r in enumerate(results):
        y = n - 1 - i
        bars = [(b, speedup_of(r, b), color) for b, color in (("eager", EAGER_COLOR), ("compile", COMPILE_COLOR))] if r.accepted else []
        drawn = False
        for j, (_, speed, color) in enumerate(bars):
            if speed:
                ax.barh(y + (0.18 if j == 0 else -0.18), math.log2(speed), left=0, height=0.34, color=color)
                drawn = True
        if not drawn:
            ax.text(0.05, y, _why_no_bar(r), va="center", fontsize=8, color="#868e96")
    ax.axvline(0, color="#343a40", linewidth=1)
    ticks = list(range(math.floor(math.log2(lo)), math.ceil(math.log2(hi)) + 1))
    ax.set_xticks(ticks, [f"{2.0 ** k:g}x" if k >= 0 else f"1/{2 ** -k}x" for k in ticks])
    ax.set_xlim(math.log2(lo), math.log2(hi))
    ax.set_yticks(range(n), list(reversed(names)) if results else [""], fontsize=8)
    ax.set_ylim(-0.6, n - 0.4)
    ax.grid(True, axis="x", color="#e9ecef")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("speedup (log scale; right of 1x = faster)", fontsize=9)
    ax.barh([], [], color=EAGER_COLOR, label="vs eager")
    ax.barh([], [], color=COMPILE_COLOR, label="vs torch.compile")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _why_no_bar(r: BenchResult) -> str:
    if r.unsupported:
        return "no kernel (unsupported)"
    if r.accepted:
        return "accepted, not timed"
    if r.verdict:
        return f"rejected: {r.verdict}"
    return "error" if r.error else "no result"
