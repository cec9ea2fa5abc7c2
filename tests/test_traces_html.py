"""`kernelwright traces export RUN_ID --html FILE`: one self-contained, escaped HTML report,
checked as text and rendered in a real headless Chromium (screenshot + DOM)."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from trace_runs import XSS, kw, traced_runs

from kernelwright.graphs.traces.html import render_html

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


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
    """Anything that would make the browser fetch over the network (or from anywhere)."""
    pats = [r"""\b(?:src|href|action|poster|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", r"url\(\s*['\"]?\s*(?:https?:)?//",
            r"@import", r"<link\b", r"<script\b[^>]*\bsrc\s*=", r"<iframe\b", r"<img\b", r"<object\b", r"<embed\b"]
    return [m.group(0) for p in pats for m in re.finditer(p, page, re.I)]


def test_the_export_has_every_step_the_code_the_diff_and_escapes_model_output(exported, runs, tmp_path):
    page = exported.read_text()
    shown = json.loads(kw("traces", "show", runs.llm_run, "--home", str(runs.home), "--json", cwd=tmp_path).stdout)
    nodes = ["plan", "code", "check", "debug", "check", "profile", "analyze", "finish"]
    assert [s["node"] for s in shown["steps"]] == nodes
    assert re.findall(r'<li id="step-(\d+)" data-node="(\w+)"', page) == [(str(i), n) for i, n in enumerate(nodes)]
    # The summary: problem, status, stop reason, policy, model, tokens, wall time, best.
    for text in ("gelu_scale.py", "finished", "iteration budget", "llm", "scripted", f"{runs.usage['total_tokens']} total", "r1-c0-d1"):
        assert text in page, text
    # The path taken, node by node, and the graph with the visited nodes.
    assert re.findall(r'<a href="#step-\d+">(\w+)</a>', page) == nodes
    assert 'class="node visited" data-node="debug"' in page and 'class="edge taken"' in page
    # Prompts and responses: the coder's prompt carried the reference source (escaped).
    assert "class Model" in page and "Here is the solution." in page
    # Candidate code, and the debugger's fix diffed against the broken parent.
    assert 'data-candidate="r1-c0"' in page and 'data-candidate="r1-c0-d1"' in page
    assert "diff against r1-c0</summary>" in page and '<span class="hunk">@@' in page
    # Every check names the sandbox its candidate ran in.
    assert page.count('class="badge ok sandbox"') + page.count('class="badge bad sandbox"') == 2
    assert re.search(r'class="badge (ok|bad) sandbox" title="[^"]*network', page)
    # Verdicts, and the CPU chart: no timing, accepted/rejected per iteration.
    assert "compile_error" in page and 'id="no-timing"' in page and 'data-chart="verdicts"' in page
    # Escaping: the model's <script> and <img onerror> are text, never markup.
    assert XSS not in page and "<script>document.title" not in page and "<img src=x" not in page
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;" in page
    assert page.count("<script") == 1  # only the page's own (hash-pinned by the CSP)
    assert external_references(page) == []
    assert "Content-Security-Policy" in page and "default-src &#x27;none&#x27;" in page
    # Without the run folder, the sources come back from the responses' code (matched by hash).
    alone = render_html(shown)
    assert "diff against r1-c0</summary>" in alone and "source not found" not in alone


def test_a_timed_run_charts_best_time_and_speedup_per_iteration():
    attempt = {"candidate_id": "r1-c0", "verdict": "accepted", "speedup": {"eager": 1.4}}
    steps = []
    for it, (ms, speed) in enumerate([(2.0, 1.4), (1.5, 1.9), (1.7, 1.6)], start=1):
        steps += [
            {"index": len(steps), "node": "plan", "role": "planner", "duration_s": 1.0, "summary": {"iteration": it}},
            {"index": len(steps) + 1, "node": "check", "role": None, "duration_s": 3.0, "verdicts": ["accepted"],
             "summary": {"attempts": [{**attempt, "candidate_id": f"r{it}-c0", "speedup": {"eager": speed}}],
                         "best": {"candidate_id": f"r{it}-c0", "median_ms": ms}}},
        ]
    run = {"run_id": "gpu-run", "problem": "p.py", "status": "finished", "accepted": True, "steps": steps,
           "best": {"candidate_id": "r2-c0", "verdict": "accepted", "speedup": {"eager": 1.9}, "median_ms": 1.5}}
    page = render_html(run)
    assert 'data-chart="best_median_ms"' in page and 'data-chart="best_speedup"' in page
    assert 'id="no-timing"' not in page and "median 1.5 ms" in page
    # Best time never goes up again (iteration 3 was slower than the best so far).
    assert "iteration 3: 1.5 ms" in page and "iteration 3: 1.9 x eager" in page


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: apt-get install -y chromium)")
def test_the_export_renders_in_headless_chromium(exported, tmp_path):
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"]
    url = exported.resolve().as_uri()
    shot = tmp_path / "shot.png"
    r = subprocess.run([*flags, f"--user-data-dir={tmp_path / 'profile-1'}", f"--screenshot={shot}", "--window-size=1200,2000", url],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    width, height, raw = _png_pixels(shot)
    assert (width, height) == (1200, 2000)
    assert len(set(raw[: len(raw) // 2])) > 16  # not one colour: text, boxes, the graph and the chart
    # Only the page's own messages could show here; no CSP violation, no script error.
    assert "Content Security Policy" not in r.stderr and "Uncaught" not in r.stderr, r.stderr[-2000:]
    dom = subprocess.run([*flags, f"--user-data-dir={tmp_path / 'profile-2'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-kw-ready="1"' in html  # the page's own (CSP-pinned) script ran ...
    assert 'data-pwned="1"' not in html and "<title>PWNED" not in html  # ... the model's did not
    assert '<ol class="steps" id="steps">' in html and len(re.findall(r'<li id="step-\d+"', html)) == 8
    assert '<svg id="graph"' in html and 'data-chart="verdicts"' in html and "bar-rejected" in html
