"""The bench's bar chart: one row per problem, its speedup against eager and against
torch.compile as bars on a log scale around 1x (right: faster, left: slower); problems without a
speedup say why (no kernel, rejected, not timed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kernelwright.bench.png import Canvas, text_width
from kernelwright.bench.scoring import speedup_of

WIDTH = 1000
ROW_H, HEADER_H, FOOTER_H = 18, 56, 34
LABEL_W, RIGHT_W = 200, 40
SERIES = (("eager", "VS EAGER", (52, 101, 164)), ("compile", "VS TORCH.COMPILE", (230, 126, 34)))
INK, GRID, MUTED, ONE_X, STRIPE = (30, 30, 30), (225, 225, 225), (140, 140, 140), (60, 60, 60), (246, 246, 246)


def chart_size(n_problems: int) -> tuple[int, int]:
    return WIDTH, HEADER_H + max(n_problems, 1) * ROW_H + FOOTER_H


def _span(results: list[dict[str, Any]]) -> tuple[int, int]:
    """Powers of two (low, high) that bracket every speedup, at least 1/4x .. 4x, at most 1/64x .. 64x."""
    speeds = [s for r in results for b, _, _ in SERIES if (s := speedup_of(r, b)) is not None]
    lo = min([0.25, *speeds])
    hi = max([4.0, *speeds])
    return max(-6, math.floor(math.log2(lo))), min(6, math.ceil(math.log2(hi)))


def _why_no_bar(r: dict[str, Any]) -> str:
    if r.get("unsupported"):
        return "no kernel (unsupported)"
    if r.get("accepted"):
        return "accepted, not timed"
    if r.get("verdict"):
        return f"rejected: {r['verdict']}"
    return "error" if r.get("error") else "no result"


def _tick_label(k: int) -> str:
    return f"{2.0 ** k:g}X" if k >= 0 else f"1/{2 ** -k}X"


def draw_chart(results: list[dict[str, Any]], title: str, path: Path) -> Path:
    width, height = chart_size(len(results))
    c = Canvas(width, height)
    lo, hi = _span(results)
    x0, x1 = LABEL_W + 10, width - RIGHT_W

    def x_of(speed: float) -> int:
        k = min(max(math.log2(speed), lo), hi)
        return round(x0 + (k - lo) / (hi - lo) * (x1 - x0))

    c.text(10, 10, title[: (width - 20) // 12], INK, scale=2)
    lx = 10
    for _, label, color in SERIES:
        c.rect(lx, 36, lx + 12, 44, color)
        lx = c.text(lx + 18, 37, label, INK) + 24
    c.text(lx, 37, "LOG SCALE; RIGHT OF 1X = FASTER", MUTED)
    top, bottom = HEADER_H, HEADER_H + max(len(results), 1) * ROW_H
    for i in range(1, len(results), 2):  # every other row shaded, so a label finds its bars
        c.rect(0, top + i * ROW_H, width, top + (i + 1) * ROW_H, STRIPE)
    for k in range(lo, hi + 1):
        x = x_of(2.0**k)
        c.rect(x, top, x + 1, bottom, ONE_X if k == 0 else GRID)
        label = _tick_label(k)
        c.text(x - text_width(label) // 2, bottom + 8, label, INK if k == 0 else MUTED)
    one = x_of(1.0)
    for i, r in enumerate(results):
        y = top + i * ROW_H
        name = str(r.get("problem", "?"))[: (LABEL_W - 10) // 6]
        c.text(LABEL_W - text_width(name), y + 5, name, INK)
        bars = [(speedup_of(r, b), color) for b, _, color in SERIES] if r.get("accepted") else []
        if not any(s is not None for s, _ in bars):
            c.text(one + 6, y + 5, _why_no_bar(r), MUTED)
            continue
        for j, (speed, color) in enumerate(bars):
            if speed is not None:
                by = y + 2 + j * 7
                c.rect(min(one, x_of(speed)), by, max(one, x_of(speed)) + 1, by + 6, color)
    c.save(path)
    return path
