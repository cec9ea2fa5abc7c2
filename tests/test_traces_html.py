"""`kernelwright traces export RUN_ID --html FILE`: one self-contained, escaped HTML report from
the Jinja2 template, checked as text and rendered in a real headless Chromium (screenshots in
tests/artifacts/, the DOM after scripts ran, no console errors)."""

from __future__ import annotations

import json
import re

import pytest
from browser import CHROMIUM, dom, pixels_near, screenshot
from trace_runs import XSS, kw, traced_runs

from kernelwright.agents.records import TokenUsage
from kernelwright.graphs.traces.html import iterations, render_html
from kernelwright.graphs.traces.plots import ROOF_COLOR
from kernelwright.graphs.traces.records import RunShown, TraceRun, TraceStep

from paths import SOLUTIONS

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
KEYWORD_COLOR = "#008000"  # Pygments' default style for Python keywords (`class`, `def`, `import`)


@pytest.fixture
def runs(tmp_path_factory):
    return traced_runs(tmp_path_factory)


@pytest.fixture
def exported(runs, tmp_path):
    out = tmp_path / "report" / "run.html"
    r = kw("traces", "export", runs.llm_run, "--html", str(out), "--home", str(runs.home), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data == {"run_id": runs.llm_run, "html": str(out.resolve()), "bytes": out.stat().st_size}
    return out


def external_references(page: str) -> list[str]:
    """Anything that would make the browser fetch over the network (or from anywhere but data:)."""
    pats = [r"""\b(?:src|href|action|poster|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", r"url\(\s*['\"]?\s*(?:https?:)?//",
            r"@import", r"<link\b", r"<script\b[^>]*\bsrc\s*=", r"<iframe\b", r"<img\b(?![^>]*\bsrc=\"data:image/svg\+xml;base64,)",
            r"<object\b", r"<embed\b"]
    return [m.group(0) for p in pats for m in re.finditer(p, page, re.I)]


def timed_run() -> RunShown:
    """A GPU-shaped run (timed, with the check's roofline) for what the CPU runs cannot show."""
    roofline = {"bytes": 2 * 4096 * 4096 * 4, "flops": 10 * 4096 * 4096, "bandwidth_Bps": 3.35e12, "peak_flops": 6.7e13,
                "t_sol_ms": 0.04, "bound": "memory", "pct_of_sol": 80.0, "peaks": {"gpu": "NVIDIA H100", "source": "datasheet"}}
    steps = []
    for it, (ms, speed) in enumerate([(2.0, 1.4), (1.5, 1.9), (1.7, 1.6)], start=1):
        steps += [
            TraceStep(run_id="gpu-run", idx=len(steps), node="plan", role="planner", started_at=0.0, duration_s=1.0, summary={"iteration": it}),
            TraceStep(run_id="gpu-run", idx=len(steps) + 1, node="check", started_at=0.0, duration_s=3.0, verdicts=["accepted"],
                      summary={"attempts": [{"candidate_id": f"r{it}-c0", "verdict": "accepted", "speedup": {"eager": speed},
                                             "median_ms": ms, "iteration": it, "roofline": roofline}],
                               "best": {"candidate_id": f"r{it}-c0", "median_ms": ms}}),
        ]
    run = TraceRun(run_id="gpu-run", problem="gelu_scale.py", policy="llm", status="finished", accepted=True, created_at=0.0,
                   usage=TokenUsage(total_tokens=1200, cost_usd=0.0123),
                   best={"candidate_id": "r2-c0", "verdict": "accepted", "speedup": {"eager": 1.9}, "median_ms": 1.5})
    return RunShown.of_steps(run, steps)


def test_the_export_has_every_step_the_code_the_diff_and_escapes_model_output(exported, runs, tmp_path):
    page = exported.read_text()
    shown = json.loads(kw("traces", "show", runs.llm_run, "--home", str(runs.home), "--json", cwd=tmp_path).stdout)
    nodes = ["plan", "code", "check", "debug", "check", "profile", "analyze", "finish"]
    assert [s["node"] for s in shown["steps"]] == nodes
    assert re.findall(r'<li id="step-(\d+)" data-node="(\w+)"', page) == [(str(i), n) for i, n in enumerate(nodes)]
    for text in ("gelu_scale.py", "finished", "iteration budget", "llm", "scripted", f"{runs.usage['total_tokens']} total", "r1-c0-d1"):
        assert text in page, text
    assert re.findall(r'<a href="#step-\d+">(\w+)</a>', page) == nodes
    assert '<figure id="graph" data-plot="graph"><img src="data:image/svg+xml;base64,' in page
    # The accepted kernel's code, highlighted, before the steps.
    solution = re.search(r'<section id="solution" data-candidate="r1-c0-d1">(.*?)</section>', page, re.S)
    assert solution and '<div class="hl">' in solution.group(1) and '<span class="k">class</span>' in solution.group(1)
    assert "ModelNew" in solution.group(1)
    # Prompts and answers: the coder's prompt carried the reference source (escaped).
    assert "class Model" in page and "Here is the solution." in page
    # Candidate code, and the debugger's fix diffed against the broken parent (highlighted diff).
    assert 'data-candidate="r1-c0"' in page and 'data-candidate="r1-c0-d1"' in page
    assert "diff against r1-c0</summary>" in page and '<span class="gu">@@' in page
    # Verdicts with reasons, and the CPU chart: no timing, accepted/rejected per round.
    assert "compile_error" in page and 'id="no-timing"' in page and 'data-plot="verdicts"' in page
    assert re.search(r"<b>[a-z_]+</b>: [^<]*gelu_fast", page)
    # Every check names the sandbox its candidate ran in.
    assert page.count('class="badge ok sandbox"') + page.count('class="badge bad sandbox"') == 2
    assert re.search(r'class="badge (ok|bad) sandbox" title="[^"]*network', page)
    # Escaping: the model's <script> and <img onerror> are text, never markup.
    assert XSS not in page and "<script>document.title" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;" in page
    assert page.count("<script") == 1  # only the page's own (hash-pinned by the CSP)
    assert external_references(page) == []
    assert "Content-Security-Policy" in page and "default-src &#39;none&#39;" in page
    # Without the run folder, the sources come back from the answers' code (matched by hash).
    alone = render_html(RunShown.model_validate(shown))
    assert "diff against r1-c0</summary>" in alone and "source not found" not in alone


def test_a_timed_run_charts_progress_and_the_roofline_with_each_round():
    run = timed_run()
    page = render_html(run)
    assert 'data-plot="timed"' in page and 'id="no-timing"' not in page and "median 1.5 ms" in page
    assert '<figure id="roofline" data-plot="roofline">' in page and "3 timed candidate(s)" in page
    assert "$0.0123" in page
    # Best time never goes up again (round 3 was slower than the best so far).
    assert [r.best_median_ms for r in iterations(run)] == [2.0, 1.5, 1.5]


@needs_chromium
def test_the_export_renders_in_headless_chromium(exported, tmp_path):
    url = exported.resolve().as_uri()
    shot, errors = screenshot(url, "trace-export-llm-run", tmp_path)
    assert errors == []  # no console message, no CSP violation, no script error
    assert pixels_near(shot, KEYWORD_COLOR) > 50  # the accepted solution's highlighted code is on screen
    html, errors = dom(url, tmp_path)
    assert errors == []
    assert 'data-kw-ready="1"' in html  # the page's own (CSP-pinned) script ran ...
    assert 'data-pwned="1"' not in html and "<title>PWNED" not in html  # ... the model's did not
    assert '<ol class="steps" id="steps">' in html and len(re.findall(r'<li id="step-\d+"', html)) == 8
    assert '<figure id="graph"' in html and 'data-plot="verdicts"' in html


@needs_chromium
def test_the_roofline_and_the_highlighted_solution_are_visible(tmp_path):
    run = timed_run()
    page = tmp_path / "timed.html"
    page.write_text(render_html(run, {"r2-c0": (SOLUTIONS / "gelu_scale.py").read_text()}))
    shot, errors = screenshot(page.as_uri(), "trace-timed-roofline", tmp_path)
    assert errors == []
    assert pixels_near(shot, ROOF_COLOR) > 200  # the roofline's roof, drawn
    assert pixels_near(shot, KEYWORD_COLOR) > 50  # highlighted keywords of the accepted solution
