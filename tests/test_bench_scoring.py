"""`kernelwright bench`'s arithmetic and files on hand-made results: fast_p, geometric mean,
median % SoL, the Markdown table, the PNG chart; result records, problem discovery, slots."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from kernelwright.agents.records import CheckFacts, Report, RunSummary
from kernelwright.bench.chart import SERIES, draw_chart
from kernelwright.bench.markdown import markdown_report
from kernelwright.bench.meta import BenchMeta, BenchOptions, BenchSetup
from kernelwright.bench.plan import discover, plan_slots
from kernelwright.bench.records import failed_record, result_record, unsupported_reason
from kernelwright.bench.scoring import summarize
from kernelwright.bench.store import BenchFolder
from kernelwright.tools.problem import InputError

from paths import PROBLEMS


def res(name, accepted=True, speedup=None, pct_sol=None, verdict=None, unsupported=None):
    return failed_record(name, f"/{name}.py", "cuda:0", "finished" if accepted else "failed", None).with_changes(
        accepted=accepted, exit=0 if accepted else 1, verdict=verdict or ("accepted" if accepted else None), speedup=speedup,
        pct_sol=pct_sol, tokens=10, wall_s=2.0, unsupported=unsupported,
        error=f"code (coder) raised UnsupportedProblem: {unsupported}" if unsupported else None)


GPU_RESULTS = [
    res("a", speedup={"eager": 2.5, "compile": 1.2}, pct_sol=80.0),
    res("b", speedup={"eager": 0.9, "compile": 0.6}, pct_sol=40.0),
    res("c", speedup={"eager": 1.6}),  # its compile baseline failed: timed against eager only
    res("d", accepted=False, verdict="wrong_output"),
    res("e", accepted=False, unsupported="expert policy: no kernel for aten.convolution (nn.Conv2d)"),
]


def test_fast_p_counts_all_problems_and_speedups_above_p():
    s = summarize(GPU_RESULTS).model_dump(mode="json")  # results.json's summary
    assert s["problems"] == 5 and s["accepted"] == 3 and s["accepted_rate"] == pytest.approx(0.6)
    assert s["unsupported"] == 1 and s["errors"] == 0 and s["complete"] is True
    assert s["fast_p"]["eager"] == pytest.approx({"0": 0.6, "0.5": 0.6, "0.8": 0.6, "1": 0.4, "1.5": 0.4, "2": 0.2})
    assert s["fast_p"]["compile"] == pytest.approx({"0": 0.6, "0.5": 0.4, "0.8": 0.2, "1": 0.2, "1.5": 0.0, "2": 0.0})
    assert "compile_max_autotune" not in s["fast_p"]  # no result was timed against it
    assert s["timed"] == {"eager": 3, "compile": 2}
    assert s["geomean_speedup"]["eager"] == pytest.approx((2.5 * 0.9 * 1.6) ** (1 / 3))
    assert s["geomean_speedup"]["compile"] == pytest.approx(math.sqrt(1.2 * 0.6))
    assert s["median_pct_sol"] == pytest.approx(60.0)
    assert s["tokens"] == 50 and s["wall_s"] == pytest.approx(10.0)
    assert len(s["notes"]) == 1 and s["notes"][0].startswith("compile: 1 of 3 accepted problems have no speedup")


def test_cpu_results_have_acceptance_but_no_speed_figures():
    s = summarize([res("a"), res("b"), res("c", accepted=False, verdict="shape_overfit")], planned=4).model_dump(mode="json")
    assert s["fast_p"]["eager"]["0"] == pytest.approx(2 / 3)
    assert all(s["fast_p"][b][p] is None for b in ("eager", "compile") for p in ("0.5", "0.8", "1", "1.5", "2"))
    assert s["geomean_speedup"] == {"eager": None, "compile": None} and s["median_pct_sol"] is None
    assert s["complete"] is False and s["notes"][0].startswith("partial: 3 of 4 problems finished")
    assert any("no timing on the CPU" in n for n in s["notes"])


def test_max_autotune_is_scored_when_present():
    s = summarize([res("a", speedup={"eager": 2.0, "compile": 1.0, "compile_max_autotune": 0.7})]).model_dump(mode="json")
    assert s["fast_p"]["compile_max_autotune"]["0.5"] == 1.0 and s["fast_p"]["compile_max_autotune"]["0.8"] == 0.0


def test_markdown_has_a_row_per_problem_and_the_fast_p_table():
    meta = BenchMeta(bench_id="b1", dir="suite", problems=list("abcde"), files={}, device="cuda", versions={"torch": "2.11"},
                     options=BenchOptions(config_path=None, config_file=None, overrides={}, policy="expert"), created_at=0.0)
    text = markdown_report(meta, GPU_RESULTS, summarize(GPU_RESULTS))
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split("|")[1].strip() in "abcde"]
    assert len(rows) == 5
    assert rows[0].startswith("| a | yes | accepted | 2.50 | 1.20 | 80.0 |")
    assert "| e | no | unsupported |" in rows[4] and "aten.convolution" in rows[4]
    assert "| 1 | 0.400 | 0.200 |" in text and "accepted: 3 of 5 (60.0%)" in text


def colour_pixels(path: Path, color: str, tolerance: int = 10) -> int:
    """Pixels of a PNG within `tolerance` per channel of `color` (#rrggbb), read by matplotlib."""
    import matplotlib.image
    import numpy as np

    image = (matplotlib.image.imread(path)[..., :3] * 255).astype(int)
    target = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - target).max(axis=-1) <= tolerance).sum())


def test_chart_has_a_bar_per_timed_baseline_as_svg_and_png(tmp_path):
    files = draw_chart(GPU_RESULTS, "bench b1", tmp_path / "speedups.png")
    assert files == {"svg": str(tmp_path / "speedups.svg"), "png": str(tmp_path / "speedups.png")}
    svg = Path(files["svg"]).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for _, _, color in SERIES:
        # Bars, not only the legend's two swatches: many pixels of each series' colour.
        assert colour_pixels(Path(files["png"]), color) > 400, color
    bare = draw_chart([r.with_changes(speedup=None) for r in GPU_RESULTS], "bench b2", tmp_path / "bare.png")
    assert all(colour_pixels(Path(bare["png"]), color) < 400 for _, _, color in SERIES)


def test_records_read_the_run_summary():
    summary = RunSummary(run_id="r1", status="finished", accepted=True, solution_path="/x/solution.py",
                         best={"candidate_id": "c0", "verdict": "accepted", "speedup": {"eager": 1.7}, "median_ms": 0.05},
                         usage={"total_tokens": 123}, stop_reason="max_iters", error=None, run_dir="/x")
    r = result_record("p", "/p.py", "cuda:0", summary, None, CheckFacts(roofline={"pct_of_sol": 91.5}), 12.0)
    assert (r.exit, r.accepted, r.verdict, r.speedup, r.pct_sol, r.tokens) == (0, True, "accepted", {"eager": 1.7}, 91.5, 123)
    failed = RunSummary(run_id="r2", status="failed", accepted=False, solution_path=None, best=None, usage={}, stop_reason=None,
                        run_dir="/y", error="code (coder) raised UnsupportedProblem: expert policy: no kernel for aten.cumsum (torch.cumsum)")
    r = result_record("q", "/q.py", "cpu", failed, None, None, 3.0)
    assert r.exit == 1 and r.verdict is None and r.unsupported == "expert policy: no kernel for aten.cumsum (torch.cumsum)"
    attempts = [{"candidate_id": f"c{i}", "iteration": 1, "origin": "code", "verdict": v} for i, v in enumerate(["compile_error", "wrong_output"])]
    report = Report(run_id="r2", problem="q", accepted=False, stop_reason=None, iterations=1, best=None, attempts=attempts, usage={})
    assert result_record("q", "/q.py", "cpu", failed.model_copy(update={"error": None}), report, None, 3.0).verdict == "wrong_output"
    assert unsupported_reason("plan (planner) raised RuntimeError: boom") is None
    # A local bench's result has no Ray keys; a Ray one's keeps them, null included.
    assert "placement" not in r.model_dump(mode="json") and "failures" not in r.model_dump(mode="json")
    assert r.with_changes(placement=None, failures=[]).model_dump(mode="json")["placement"] is None


def test_discover_filters_and_names_bad_files(tmp_path):
    names = [p.stem for p in discover(PROBLEMS, ["gelu_*", "softmax_rows"], None)]
    assert names == ["gelu_scale", "gelu_tanh_bf16", "softmax_rows"]
    assert [p.stem for p in discover(PROBLEMS, ["*_bf16"], 2)] == ["avgpool2d_bf16", "bias_gelu_bf16"]
    (tmp_path / "helper.py").write_text("x = 1\n")
    with pytest.raises(InputError, match="helper.py lacks Model"):
        discover(tmp_path, [], None)
    with pytest.raises(InputError, match="matches --filter nothing"):
        discover(PROBLEMS, ["nothing"], None)


def test_slots_and_bench_ids(tmp_path):
    slots, kind = plan_slots("cpu", 3)
    assert kind == "cpu" and [s.device for s in slots] == ["cpu"] * 3 and all("OMP_NUM_THREADS" in s.env for s in slots)
    with pytest.raises(InputError, match="--jobs must be at least 1"):
        plan_slots("cpu", 0)
    with pytest.raises(InputError, match="expected auto, cpu, cuda"):
        plan_slots("tpu", None)
    setup = BenchSetup(dir="suite", problems=[], files={}, device="cpu",
                       options=BenchOptions(config_path=None, config_file=None, overrides={}, policy="expert"))
    BenchFolder.create(tmp_path, "mine", setup)
    with pytest.raises(InputError, match="--resume mine"):
        BenchFolder.create(tmp_path, "mine", setup)
    with pytest.raises(InputError, match="no such bench"):
        BenchFolder.open(tmp_path, "other")
