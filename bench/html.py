"""The bench's HTML report (results.html): the summary, the speedup chart, and per problem its
verdict, a roofline plot (achieved against the device's peaks) and the accepted solution,
highlighted. Rendered from graphs/traces/templates/bench.html.j2 (Jinja2, Pygments, matplotlib)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from kernelwright.graphs.traces import plots
from kernelwright.graphs.traces.records import RooflineDigest
from kernelwright.graphs.traces.render import render


def _problem_view(r: dict[str, Any]) -> dict[str, Any]:
    solution = None
    if r.get("accepted") and r.get("run_dir") and (Path(r["run_dir"]) / "solution.py").is_file():
        solution = (Path(r["run_dir"]) / "solution.py").read_text(errors="replace")
    roofline_uri = None
    roofline = RooflineDigest.of(r.get("roofline"))
    if roofline:
        attempt = {"candidate_id": "best", "iteration": 1, "verdict": r.get("verdict"), "median_ms": r.get("median_ms")}
        fig = plots.roofline_figure(roofline, plots.roofline_points([attempt], roofline), str(r.get("problem")))
        roofline_uri = plots.svg_data_uri(fig) if fig is not None else None
    return {**r, "solution": solution, "roofline_uri": roofline_uri}


def bench_html(report: dict[str, Any], chart_svg: Path) -> str:
    chart = "data:image/svg+xml;base64," + base64.b64encode(Path(chart_svg).read_bytes()).decode() if Path(chart_svg).is_file() else None
    return render("bench.html.j2", title=f"kernelwright bench {report['bench_id']}", report=report, summary=report["summary"],
                  problems=[_problem_view(r) for r in report["problems"]], chart_uri=chart, refresh_s=None)
