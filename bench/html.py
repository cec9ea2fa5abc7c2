"""The bench's HTML report (results.html): the summary, the speedup chart, and per problem its
verdict, a roofline plot (achieved against the device's peaks) and the accepted solution,
highlighted. Rendered from graphs/traces/templates/bench.html.j2 (Jinja2, Pygments, matplotlib)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING

from kernelwright.bench.records import BenchResult
from kernelwright.graphs.traces import plots
from kernelwright.graphs.traces.render import render

if TYPE_CHECKING:  # reports.py imports this module
    from kernelwright.bench.reports import BenchReport


class ProblemView(BenchResult):
    """A result as the page shows it: with its accepted solution and its roofline plot."""

    solution: str | None = None
    roofline_uri: str | None = None  # an SVG data: URI


def _problem_view(r: BenchResult) -> ProblemView:
    solution = None
    if r.accepted and r.run_dir and (Path(r.run_dir) / "solution.py").is_file():
        solution = (Path(r.run_dir) / "solution.py").read_text(errors="replace")
    roofline_uri = None
    if r.roofline:
        attempt = {"candidate_id": "best", "iteration": 1, "verdict": r.verdict, "median_ms": r.median_ms}
        fig = plots.roofline_figure(r.roofline, plots.roofline_points([attempt], r.roofline), r.problem)
        roofline_uri = plots.svg_data_uri(fig) if fig is not None else None
    return ProblemView(**dict(r), solution=solution, roofline_uri=roofline_uri)


def bench_html(report: BenchReport, chart_svg: Path) -> str:
    chart = "data:image/svg+xml;base64," + base64.b64encode(Path(chart_svg).read_bytes()).decode() if Path(chart_svg).is_file() else None
    return render("bench.html.j2", title=f"kernelwright bench {report.bench_id}", report=report, summary=report.summary,
                  problems=[_problem_view(r) for r in report.problems], chart_uri=chart, refresh_s=None)
