"""Nsight Compute CSV parsing on output captured on an H100 (benchmarks/ncu_capture.sh: softmax
rows 4096x4096, the Triton solution and the eager reference), and ncu's failure messages."""

from __future__ import annotations

import json

import pytest

from kernelwright.tools.profile.diagnosis import diagnose
from kernelwright.tools.profile.ncu import find_ncu, ncu_command, ncu_failure_reason, own_kernel_names
from kernelwright.tools.profile.ncu_csv import (
    number,
    parse_ncu_csv,
    scaled,
    short_kernel_name,
    summarize_launches,
)
from kernelwright.tools.profile.occupancy import theoretical_occupancy

from paths import ROOT, SOLUTIONS

NCU = ROOT / "tests" / "data" / "ncu"
PERMISSION = """==PROF== Connected to process 812 (/usr/bin/python3.12)
==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters on the target device 0. For instructions on enabling permissions and to get more information see https://developer.nvidia.com/ERR_NVGPUCTRPERM
==PROF== Disconnected from process 812
==WARNING== No kernels were profiled.
"""


@pytest.fixture(scope="module")
def metric_run():
    return parse_ncu_csv((NCU / "ncu_softmax_metrics.csv").read_text())


@pytest.fixture(scope="module")
def section_run():
    return parse_ncu_csv((NCU / "ncu_softmax_sections.csv").read_text())


def test_metric_list_run_gives_one_record_per_launch_with_canonical_metrics(metric_run):
    assert [r.id for r in metric_run] == [0, 1, 2, 3, 4, 5]
    assert [r.short_name for r in metric_run] == [
        "distribution_elementwise_grid_stride_kernel", "cunn_SoftMaxForwardReg", "softmax_kernel",
        "cunn_SoftMaxForwardReg", "softmax_kernel", "cunn_SoftMaxForwardReg",
    ]
    triton = [r for r in metric_run if r.short_name == "softmax_kernel"]
    assert [r.metrics["duration_ns"] for r in triton] == [41952, 41152]  # "41,952" in the file
    assert [r.metrics["dram_pct"] for r in triton] == [79.87, 81.38]
    m = triton[0].metrics
    assert m["registers_per_thread"] == 54 and m["shared_dynamic_bytes"] == 16 and m["instructions"] == 8339456
    assert m["theoretical_occupancy_pct"] == 56.25 and m["achieved_occupancy_pct"] == 51.35
    assert m["block_limit_registers"] == 9 and m["tensor_pct"] == 0
    assert triton[0].block == [128, 1, 1] and triton[0].grid == [4096, 1, 1]


def test_summary_of_the_solutions_kernels_names_the_register_limit(metric_run):
    own = [r for r in metric_run if r.short_name == "softmax_kernel"]
    s = summarize_launches(own, calls=2)
    assert s["duration_ms"] == pytest.approx((41952 + 41152) / 2 / 1e6)
    assert s["dominant_kernel"] == "softmax_kernel" and s["kernels"][0]["launches_per_call"] == 1
    assert s["dram_pct"] == pytest.approx((79.87 + 81.38) / 2)
    assert s["occupancy_limiter"] == "registers" and s["registers_per_thread"] == 54
    assert s["instructions_per_call"] == 8339456


def test_eager_reference_kernel_at_full_occupancy_has_no_limiter(metric_run):
    eager = [r for r in metric_run if r.short_name == "cunn_SoftMaxForwardReg"]
    s = summarize_launches(eager, calls=3)
    assert s["theoretical_occupancy_pct"] == 100 and s["occupancy_limiter"] is None
    assert s["duration_ms"] == pytest.approx((67264 + 67296 + 67328) / 3 / 1e6)
    assert eager[0].block == [1024, 1, 1]


def test_section_run_maps_table_labels_and_reads_the_stall_rule(section_run):
    assert [r.short_name for r in section_run] == ["softmax_kernel", "softmax_kernel"]
    first = section_run[0]
    m = first.metrics
    assert m["duration_ns"] == 42336 and m["dram_pct"] == 79.02 and m["l2_pct"] == 80.61
    assert m["sm_frequency_hz"] == pytest.approx(1_586_784_887.57)
    assert m["theoretical_occupancy_pct"] == 56.25 and m["achieved_occupancy_pct"] == 50.95
    assert m["warp_cycles_per_issue"] == 30.48
    assert {"SOLBottleneck", "CPIStall", "TheoreticalOccupancy"} <= {r.rule for r in first.rules}
    s = summarize_launches(section_run, calls=2)
    assert s["occupancy_limiter"] == "registers"
    [stall] = s["top_stalls"]
    assert stall["reason"] == "long_scoreboard" and stall["cycles_per_issue"] == 10.6 and stall["share_pct"] == 34.9


def test_static_occupancy_matches_what_ncu_measured_for_the_same_kernel(metric_run):
    m = next(r for r in metric_run if r.short_name == "softmax_kernel").metrics
    occ = theoretical_occupancy(int(m["registers_per_thread"]), 128 // 32, int(m["shared_dynamic_bytes"]), arch=90)
    assert occ.occupancy_pct == m["theoretical_occupancy_pct"] and occ.block_limits["registers"] == m["block_limit_registers"]
    assert occ.limiter == "registers"
    eager = next(r for r in metric_run if r.short_name == "cunn_SoftMaxForwardReg").metrics
    full = theoretical_occupancy(int(eager["registers_per_thread"]), 1024 // 32, 128, arch=90)
    assert full.occupancy_pct == 100 and full.limiter is None
    assert full.block_limits["registers"] == eager["block_limit_registers"] == 2


def test_diagnosis_names_the_busiest_unit_occupancy_limit_stall_and_headroom(section_run):
    metrics = summarize_launches(section_run, calls=2)
    roof = {"t_sol_ms": 0.0336, "measured_ms": metrics["duration_ms"], "headroom": metrics["duration_ms"] / 0.0336,
            "bound": "memory", "peaks": {"gpu": "NVIDIA H100 80GB HBM3", "source": "measured"}}
    text = diagnose({"tier": 1, "metrics": metrics, "roofline": roof})
    assert text.startswith("memory-bound; L2 81% of peak (the busiest unit)")
    assert "DRAM 79% of peak" in text and "1.3x headroom to SoL (42.2 us measured, 33.6 us SoL" in text
    assert "occupancy 51% achieved of 56% theoretical, limited by registers" in text
    assert "top stall long_scoreboard 10.6 cycles/issue" in text


def test_values_units_and_names():
    assert number("2,617,384,731.67") == pytest.approx(2617384731.67) and number("n/a") is None and number("") is None
    assert scaled(42.3, "usecond", "duration_ns") == pytest.approx(42300) and scaled(1.5, "Kbyte/block", "shared_dynamic_bytes") == 1500
    assert short_kernel_name("void at::native::(anonymous namespace)::vectorized_elementwise_kernel<4, F>(int, F)") == "vectorized_elementwise_kernel"
    assert short_kernel_name("gelu_scale_kernel") == "gelu_scale_kernel"


def test_ncu_failures_become_one_line_reasons():
    why = ncu_failure_reason(PERMISSION)
    assert "ERR_NVGPUCTRPERM" in why and "performance counters" in why and "NVreg_RestrictProfilingToAdminUsers=0" in why
    assert ncu_failure_reason("==ERROR== Failed to find metric smsp__foo.sum").startswith("this ncu does not know metric(s): smsp__foo.sum")
    assert "matched the kernel filter" in ncu_failure_reason("==PROF== Disconnected\n==WARNING== No kernels were profiled.")
    assert ncu_failure_reason("==ERROR== Profiling failed because a driver resource was unavailable.") == (
        "ncu: Profiling failed because a driver resource was unavailable.")
    assert ncu_failure_reason("==PROF== Connected\n==PROF== Disconnected") is None


def test_the_ncu_run_is_limited_to_the_solutions_kernels_and_the_bracketed_calls(tmp_path):
    assert own_kernel_names((SOLUTIONS / "gelu_scale.py").read_text()) == ["gelu_scale_kernel"]
    assert own_kernel_names((SOLUTIONS / "gelu_scale_cuda.py").read_text()) == ["gelu_scale_kernel"]
    cmd = ncu_command("/opt/ncu", tmp_path / "r", ("gpu__time_duration.sum",), "^(gelu_scale_kernel)$", 61)
    joined = " ".join(cmd)
    assert "--profile-from-start off" in joined and "--kernel-name regex:^(gelu_scale_kernel)$" in joined
    assert "--launch-count 61" in joined and "--clock-control none" in joined and "--cache-control all" in joined
    fake = tmp_path / "bin" / "ncu"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_ncu({"PATH": str(fake.parent)}) == str(fake)
    assert find_ncu({"PATH": str(fake.parent), "KERNELWRIGHT_NCU": str(tmp_path / "none")}) is None


FAKE_NCU = '''#!{python}
# Stands in for ncu: checks how it is called, answers as ncu would in scenario {mode!r}.
import json, os, sys
argv = sys.argv[1:]
if "--import" in argv:
    sys.stdout.write(open({csv!r}).read())
    sys.exit(0)
metrics = argv[argv.index("--metrics") + 1]
if {mode!r} == "old_ncu" and "stalled" in metrics:
    print("==ERROR== Failed to find metric smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio")
    sys.exit(1)
assert argv[-3:-1] == ["-m", "kernelwright.tools.worker.profile_run"], argv
target = json.load(open(argv[-1]))
if {mode!r} == "permission":
    print("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters")
else:
    open(argv[argv.index("--export") + 1] + ".ncu-rep", "w").write("report")
# The stand-in runs inside the sandbox, like ncu: only the run's own folder is writable.
with open(os.path.join(os.path.dirname(argv[argv.index("--export") + 1]), "argv.jsonl"), "a") as log:
    log.write(json.dumps(argv) + "\\n")
json.dump({{"ok": True, "device_facts": {{"gpu": "NVIDIA H100 80GB HBM3", "sm": "sm_90"}}}}, open(target["result_path"], "w"))
'''


@pytest.mark.parametrize("mode", ["ok", "old_ncu", "permission"])
def test_tier_1_plumbing_with_a_stand_in_ncu(tmp_path, monkeypatch, mode):
    import sys

    from kernelwright.tools.profile import ncu as profile_ncu

    from paths import PROBLEMS

    monkeypatch.setattr(profile_ncu, "NCU_CALLS", 2)  # the captured run holds 2 launches
    fake = tmp_path / "ncu"
    fake.write_text(FAKE_NCU.format(python=sys.executable, mode=mode, csv=str(NCU / "ncu_softmax_sections.csv")))
    fake.chmod(0o755)
    solution = SOLUTIONS / "softmax_rows.py"
    out = profile_ncu.ncu_profile(str(fake), PROBLEMS / "softmax_rows.py", solution, solution.read_text(), "cuda:0", tmp_path / "w", 60)
    if mode == "permission":
        assert out["failure"].startswith("ncu may not read the GPU's performance counters here (ERR_NVGPUCTRPERM)")
        return
    logs = list((tmp_path / "w").rglob("argv.jsonl"))
    assert len(logs) == 1, out
    runs = [json.loads(line) for line in logs[0].read_text().splitlines()]
    assert len(runs) == 1 and " ".join(runs[0]).count("--kernel-name regex:^(softmax_kernel)$") == 1
    assert "--profile-from-start off" in " ".join(runs[0]) and "--launch-count 41" in " ".join(runs[0])
    m = out["metrics"]
    assert m["duration_ms"] == pytest.approx((42336 + 41984) / 2 / 1e6) and m["occupancy_limiter"] == "registers"
    assert m["kernel_filter"] == "regex:^(softmax_kernel)$" and out["device_facts"]["gpu"] == "NVIDIA H100 80GB HBM3"
    stall_note = [x for x in out["missing"] if x.startswith("stall reasons")]
    assert bool(stall_note) == (mode == "old_ncu")
    if mode == "old_ncu":
        assert "stalled" not in " ".join(runs[0])  # the retry asked for the verified metrics only
