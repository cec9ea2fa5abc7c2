"""The bench's report files, rewritten from the results so far: results.json, results.md and
speedups.svg and .png, results.html in the bench folder (copied to --out when given)."""

from __future__ import annotations

import shutil
from pathlib import Path

from kernelwright.bench.kernelbench import export_run
from kernelwright.bench.meta import BenchOptions
from kernelwright.bench.records import BenchRecord, BenchResult
from kernelwright.bench.scoring import BenchSummary
from kernelwright.bench.store import BenchFolder, write_json_atomic

REPORT_FILES = {"json": "results.json", "markdown": "results.md", "png": "speedups.png", "svg": "speedups.svg", "html": "results.html"}


class BenchReport(BenchRecord):
    """results.json, and what `bench --json` prints."""

    bench_id: str
    folder: str  # the bench folder
    dir: str  # the suite's folder
    device: str
    versions: dict[str, str | None] | None
    options: BenchOptions
    complete: bool
    problems: list[BenchResult]  # the finished ones, in the suite's order
    summary: BenchSummary
    files: dict[str, str]  # kind (json, markdown, png, svg, html, kernelbench) -> path


def write_reports(bench: BenchFolder, out: str | None) -> BenchReport:
    """results.json / results.md / speedups.svg+png / results.html from the results so far (also copied to --out)."""
    from kernelwright.bench.chart import draw_chart
    from kernelwright.bench.html import bench_html
    from kernelwright.bench.markdown import markdown_report
    from kernelwright.bench.scoring import summarize

    meta = bench.meta()
    results = list(bench.results().values())
    summary = summarize(results, planned=len(meta.problems))
    files = {kind: bench.root / name for kind, name in REPORT_FILES.items()}
    report = BenchReport(bench_id=bench.bench_id, folder=str(bench.root), dir=meta.dir, device=meta.device, versions=meta.versions,
                         options=meta.options, complete=summary.complete, problems=results, summary=summary,
                         files={k: str(v) for k, v in files.items()})
    write_json_atomic(files["json"], report)
    files["markdown"].write_text(markdown_report(meta, results, summary))
    draw_chart(results, f"kernelwright bench {bench.bench_id}: {summary.accepted}/{summary.problems} accepted", files["png"])
    files["html"].write_text(bench_html(report, files["svg"]), encoding="utf-8")
    if meta.kernelbench_level:
        # KernelBench's own analysis scripts read this folder (see bench/kernelbench.py).
        export = export_run(results, meta.kernelbench_level, bench.root / "kernelbench")
        report = report.model_copy(update={"files": {**report.files, "kernelbench": str(export)}})
        write_json_atomic(files["json"], report)
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for path in files.values():
            shutil.copyfile(path, Path(out) / path.name)
        if meta.kernelbench_level:
            shutil.copytree(bench.root / "kernelbench", Path(out) / "kernelbench", dirs_exist_ok=True)
    return report
