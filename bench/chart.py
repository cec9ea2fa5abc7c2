"""The bench's chart: one row per problem, its speedup against eager and against torch.compile as
bars on a log scale around 1x (right: faster, left: slower); problems without a speedup say why
(no kernel, rejected, not timed). Drawn with matplotlib (graphs/traces/plots.py), as SVG and PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kernelwright.graphs.traces.plots import COMPILE_COLOR, EAGER_COLOR, save, speedup_figure

SERIES = (("eager", "vs eager", EAGER_COLOR), ("compile", "vs torch.compile", COMPILE_COLOR))


def draw_chart(results: list[dict[str, Any]], title: str, path: Path) -> dict[str, str]:
    """PATH.svg and PATH.png (PATH's own suffix is replaced); returns {"svg": ..., "png": ...}."""
    return save(speedup_figure(results, title), Path(path).with_suffix(""))
