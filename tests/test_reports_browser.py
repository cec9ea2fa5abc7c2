"""The bench report (results.html) in headless Chromium, and `kernelwright traces serve`
following runs over HTTP on 127.0.0.1."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request

import pytest
from browser import CHROMIUM, pixels_near, screenshot

from kernelwright.bench.chart import draw_chart
from kernelwright.bench.html import bench_html
from kernelwright.bench.meta import BenchOptions
from kernelwright.bench.records import failed_record
from kernelwright.bench.reports import BenchReport
from kernelwright.bench.scoring import summarize
from kernelwright.configs import validate
from kernelwright.graphs.traces.plots import EAGER_COLOR, ROOF_COLOR
from kernelwright.graphs.traces.store import TraceStore

from paths import PROBLEMS, SOLUTIONS

ROOFLINE = {"bytes": 2 * 4096 * 4096 * 4, "flops": 10 * 4096 * 4096, "bandwidth_Bps": 3.35e12, "peak_flops": 6.7e13,
            "t_sol_ms": 0.04, "bound": "memory", "pct_of_sol": 80.0, "peaks": {"gpu": "NVIDIA H100", "source": "datasheet"}}


def gpu_report(tmp_path) -> BenchReport:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "solution.py").write_text((SOLUTIONS / "gelu_scale.py").read_text())
    results = [
        failed_record("gelu_scale", "/gelu_scale.py", "cuda:0", "finished", None).with_changes(
            accepted=True, exit=0, verdict="accepted", speedup={"eager": 2.1, "compile": 1.1}, median_ms=0.05, pct_sol=80.0,
            roofline=ROOFLINE, wall_s=40.0, run_id="gelu-1", run_dir=str(run_dir)),
        failed_record("conv2d_relu", "/conv2d_relu.py", "cuda:0", "failed", "raised UnsupportedProblem: no kernel for aten.convolution").with_changes(
            unsupported="no kernel for aten.convolution", wall_s=3.0, run_id="conv-1"),
    ]
    summary = summarize(results)
    return BenchReport(bench_id="b1", folder=str(tmp_path), dir="examples/problems", device="cuda", versions={"torch": "2.11"},
                       options=BenchOptions(config_path=None, config_file=None, overrides={}, policy="expert"),
                       complete=summary.complete, problems=results, summary=summary, files={})


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
def test_the_bench_report_shows_the_chart_a_roofline_and_the_code(tmp_path):
    report = gpu_report(tmp_path)
    files = draw_chart(report.problems, "bench b1", tmp_path / "speedups.png")
    page = tmp_path / "results.html"
    page.write_text(bench_html(report, tmp_path / "speedups.svg"))
    html = page.read_text()
    assert '<figure id="speedups"' in html and html.count('data-plot="roofline"') == 1 and "no kernel for aten.convolution" in html
    assert files["svg"].endswith("speedups.svg")
    shot, errors = screenshot(page.as_uri(), "bench-report", tmp_path, height=2600)
    assert errors == []
    assert pixels_near(shot, EAGER_COLOR) > 200  # the speedup bars
    assert pixels_near(shot, ROOF_COLOR) > 200  # the roofline
    assert pixels_near(shot, "#008000") > 50  # highlighted keywords of the solution


def test_traces_serve_lists_runs_and_refreshes_a_running_one(tmp_path):
    home = tmp_path / "home"
    store = TraceStore(home / "traces.db")
    store.start_run("live-1", str(PROBLEMS / "gelu_scale.py"), "expert", None, validate({"check": {"device": "cpu"}}, "test"), "cpu", {})
    store.add_step("live-1", "plan", "planner", time.time(), 0.5, {"plan": "STRATEGY: <b>fuse</b>", "iteration": 1})
    proc = subprocess.Popen([sys.executable, "-m", "kernelwright", "traces", "serve", "--port", "0", "--home", str(home)],
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        index = urllib.request.urlopen(url, timeout=30).read().decode()
        assert 'href="/run/live-1"' in index and 'http-equiv="refresh"' in index
        page = urllib.request.urlopen(url + "run/live-1", timeout=30).read().decode()
        assert 'http-equiv="refresh" content="3"' in page and "STRATEGY: &lt;b&gt;fuse&lt;/b&gt;" in page
        store.finish_run("live-1", "finished", "done", None, 1.0)
        done = urllib.request.urlopen(url + "run/live-1", timeout=30).read().decode()
        assert 'http-equiv="refresh"' not in done and "finished" in done
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url + "run/nope", timeout=30)
        assert missing.value.code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
