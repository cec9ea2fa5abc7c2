"""The timing guards' arithmetic, on recorded numbers (the GPU tests exercise them for real)."""

import json
import types

import torch

from kernelwright.tools.roofline import speed_of_light
from kernelwright.tools.timing import _apply_guards
from kernelwright.tools.verdicts import CheckResult, Verdict

PEAKS = {"gpu": "TestGPU", "bandwidth_Bps": 3.0e12, "flops": {"bf16": 8.0e14, "fp16": 8.0e14, "fp32": 5.0e13}}
SHIPPED = {"bytes": 3 * 10**9, "flops": 0, "cases": [{"output": {"shape": [10], "dtype": "float32"}}]}


def run_guards(tmp_path, median_ms, profile):
    home = tmp_path / "home"
    home.mkdir()
    (home / "peaks.json").write_text(json.dumps({f"TestGPU|torch {torch.__version__}": PEAKS}))
    (tmp_path / "r").mkdir()
    (tmp_path / "c").mkdir()
    result = CheckResult(verdict=Verdict.ACCEPTED, versions={"gpu": "TestGPU"})
    result.timing = {"candidate": {"median_ms": median_ms}}
    opts = types.SimpleNamespace(home=home, mode="strict", timeout_s=10)
    _apply_guards(result, {"profile": profile}, tmp_path / "r", tmp_path / "c", "cuda:0", opts, SHIPPED, tmp_path)
    return result


CLEAN = {"streams": [7], "timed_streams": [7], "kernel_ms": 4.9, "event_ms": 5.0}


def test_speed_of_light_arithmetic():
    sol = speed_of_light(3 * 10**9, 2 * 10**12, PEAKS, "fp32")
    assert abs(sol["t_memory_ms"] - 1.0) < 1e-9  # 3 GB at 3 TB/s
    assert abs(sol["t_compute_ms"] - 40.0) < 1e-9  # 2 TFLOP at 50 TFLOP/s
    assert sol["bound"] == "compute" and sol["t_sol_ms"] == sol["t_compute_ms"]
    generous = speed_of_light(3 * 10**9, 2 * 10**12, PEAKS, "fp32", generous=True)
    assert abs(generous["t_compute_ms"] - 2.5) < 1e-9  # the fastest (bf16) rate


def test_an_honest_time_near_the_speed_of_light_passes(tmp_path):
    r = run_guards(tmp_path, 1.05, CLEAN)
    assert r.verdict is Verdict.ACCEPTED
    assert abs(r.roofline["pct_of_sol"] - 100 / 1.05) < 1e-6


def test_faster_than_light_is_impossible_speed(tmp_path):
    r = run_guards(tmp_path, 0.5, CLEAN)
    assert r.verdict is Verdict.IMPOSSIBLE_SPEED
    assert "speed of light" in r.reasons[0].message


def test_kernels_on_a_side_stream_are_a_timing_escape(tmp_path):
    r = run_guards(tmp_path, 1.2, {**CLEAN, "streams": [7, 13]})
    assert r.verdict is Verdict.TIMING_ESCAPE and "13" in r.reasons[0].message


def test_kernel_time_beyond_the_event_window_is_a_timing_escape(tmp_path):
    r = run_guards(tmp_path, 1.2, {**CLEAN, "kernel_ms": 9.0, "event_ms": 5.0})
    assert r.verdict is Verdict.TIMING_ESCAPE
