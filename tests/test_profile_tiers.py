"""Which tier runs where and why the others did not; the timeline's per-call attribution; the
graph's profile node on the CPU."""

from __future__ import annotations

import pytest

from kernelwright.tools.problem import InputError
from kernelwright.tools.profile import tiers as profile_mod
from kernelwright.tools.profile.ncu import ncu_failure_reason
from kernelwright.tools.profile.tiers import NO_GPU, NO_NCU, plan_tiers, profile_solution, tier_availability
from kernelwright.tools.profile.timeline import summarize_timeline

from paths import PROBLEMS, SOLUTIONS

PERMISSION = "==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters on the target device 0."


def test_availability_and_plans():
    assert tier_availability("cpu", None) == {1: NO_GPU, 2: NO_GPU, 3: None}
    assert tier_availability("cuda:0", None) == {1: NO_NCU, 2: None, 3: None}
    assert tier_availability("cuda:0", "/opt/ncu") == {1: None, 2: None, 3: None}
    assert plan_tiers(tier_availability("cuda:0", None), None) == [2, 3]
    assert plan_tiers(tier_availability("cuda:0", "/opt/ncu"), None) == [1, 2, 3]
    assert plan_tiers(tier_availability("cuda:0", "/opt/ncu"), 3) == [3]
    with pytest.raises(InputError, match=r"--tier 1 \(Nsight Compute\) cannot run here: ncu not found"):
        plan_tiers(tier_availability("cuda:0", None), 1)
    with pytest.raises(InputError, match="--tier 2 .* no CUDA GPU here"):
        plan_tiers(tier_availability("cpu", None), 2)
    with pytest.raises(InputError, match="expected 1"):
        plan_tiers(tier_availability("cpu", None), 4)


@pytest.fixture
def fake_gpu(monkeypatch):
    """A pretend H100 with ncu: the tiers themselves are scripted, the orchestration is real."""
    calls: list[int] = []
    outcomes: dict[int, dict] = {}
    monkeypatch.setattr(profile_mod, "resolve_device", lambda requested: "cuda:0")
    monkeypatch.setattr(profile_mod, "find_ncu", lambda: "/opt/nvidia/nsight-compute/2025.3.1/ncu")
    monkeypatch.setattr(profile_mod, "device_peaks", lambda *a, **k: None)
    monkeypatch.setattr(profile_mod, "problem_cost", lambda *a, **k: {
        "ok": True, "bytes": 134_217_728, "flops": 0, "dtype": "float32", "device_facts": {"gpu": "NVIDIA H100 80GB HBM3", "sm": "sm_90"}})

    def run_tier(tier, ctx, timeout_s):
        calls.append(tier)
        return outcomes[tier]

    monkeypatch.setattr(profile_mod, "run_tier", run_tier)
    return calls, outcomes


def test_permission_error_falls_through_to_the_timeline_with_the_reason(fake_gpu, tmp_path):
    calls, outcomes = fake_gpu
    outcomes[1] = {"failure": ncu_failure_reason(PERMISSION)}
    outcomes[2] = {"metrics": {"event_ms": 0.0559, "busy_ms": 0.050, "gap_ms": 0.0, "launches_per_call": 1, "streams": [7]}}
    p = profile_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", profile_mod.ProfileOptions(home=tmp_path))
    assert calls == [1, 2] and p["tier"] == 2 and p["tier_name"] == "timeline"
    assert p["missing"][0].startswith("tier 1 failed: ncu may not read the GPU's performance counters here (ERR_NVGPUCTRPERM)")
    roof = p["roofline"]
    assert roof["measured_ms"] == 0.0559 and roof["measured_by"].startswith("CUDA events")
    assert roof["peaks"]["gpu"] == "H100 SXM" and "datasheet figures of the H100 SXM" in " ".join(p["missing"])
    assert roof["t_sol_ms"] == pytest.approx(134_217_728 / 3.35e12 * 1000)
    assert p["diagnosis"].startswith("memory-bound; 1.4x headroom to SoL (55.9 us measured, 40.1 us SoL on H100 SXM, datasheet peaks)")


def test_a_forced_tier_is_the_only_one_tried(fake_gpu, tmp_path):
    calls, outcomes = fake_gpu
    outcomes[1] = {"failure": "ncu did not finish within 5s"}
    p = profile_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", profile_mod.ProfileOptions(home=tmp_path, tier=1))
    assert calls == [1] and p["tier"] is None and p["missing"] == ["tier 1 failed: ncu did not finish within 5s"] + p["missing"][1:]
    assert "nothing measured" in p["diagnosis"]


def test_without_ncu_the_gpu_profile_starts_at_the_timeline(fake_gpu, tmp_path, monkeypatch):
    calls, outcomes = fake_gpu
    monkeypatch.setattr(profile_mod, "find_ncu", lambda: None)
    outcomes[2] = {"failure": "the profiled forward failed (forward): RuntimeError: CUDA error: an illegal memory access"}
    outcomes[3] = {"metrics": {"arch": "sm_90", "kernels": []}, "missing": ["static resources: x"]}
    p = profile_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", profile_mod.ProfileOptions(home=tmp_path))
    assert calls == [2, 3] and p["tier"] == 3
    assert p["missing"][:3] == [f"tier 1 unavailable: {NO_NCU}", "tier 2 failed: the profiled forward failed (forward): RuntimeError: "
                                "CUDA error: an illegal memory access", "static resources: x"]


def _kernel(name, ts, dur, stream, corr):
    return {"cat": "kernel", "name": name, "ts": ts, "dur": dur, "stream": stream, "correlation": corr}


def _launch(ts, corr, name="cuLaunchKernelEx"):
    return {"cat": "cuda_driver", "name": name, "ts": ts, "dur": 2, "stream": None, "correlation": corr}


def test_timeline_attributes_work_to_calls_through_the_launch_calls():
    events = [
        {"cat": "user_annotation", "name": "kw_call_0", "ts": 100, "dur": 100, "stream": None, "correlation": None},
        {"cat": "user_annotation", "name": "kw_call_1", "ts": 300, "dur": 100, "stream": None, "correlation": None},
        # flushes: launched before each call's range, run inside it on the GPU: not the forward's
        _launch(90, 1, "cudaLaunchKernel"), _kernel("void at::native::fill_kernel<float>()", 95, 20, 7, 1),
        _launch(290, 2, "cudaLaunchKernel"), _kernel("void at::native::fill_kernel<float>()", 295, 20, 7, 2),
        # call 0: the own kernel, a gap, a torch copy kernel on a side stream
        _launch(110, 3), _kernel("gelu_scale_kernel", 120, 40, 7, 3),
        _launch(112, 4, "cudaLaunchKernel"), _kernel("void at::native::copy_kernel<float>()", 170, 10, 13, 4),
        # call 1: the same
        _launch(310, 5), _kernel("gelu_scale_kernel", 320, 44, 7, 5),
        _launch(312, 6, "cudaLaunchKernel"), _kernel("void at::native::copy_kernel<float>()", 374, 10, 13, 6),
    ]
    m = summarize_timeline(events, [0.070, 0.080], {"gelu_scale_kernel"})
    assert m["calls"] == 2 and m["event_ms"] == pytest.approx(0.075)
    assert m["launches_per_call"] == 2 and m["unattributed_activities"] == 2  # the two flushes
    assert m["kernel_ms"] == pytest.approx(0.052) and m["busy_ms"] == pytest.approx(0.052)
    assert m["span_ms"] == pytest.approx(0.062) and m["gap_ms"] == pytest.approx(0.010)
    assert m["streams"] == [7, 13] and m["own_launches_per_call"] == 1
    own = m["kernels"][0]
    assert own["short_name"] == "gelu_scale_kernel" and own["own"] and own["mean_us"] == 42 and own["streams"] == [7]
    assert not m["kernels"][1]["own"] and m["kernels"][1]["short_name"] == "copy_kernel"


def test_graph_profile_node_on_the_cpu_reuses_the_check_resources(tmp_path):
    from kernelwright.agents.context import RunContext
    from kernelwright.agents.records.attempt import Attempt, CheckFacts
    from kernelwright.graphs.nodes import profile_body
    from kernelwright.tools.check.verify import CheckOptions

    resources = [{"kernel": "gelu_scale_kernel", "arch": "sm_90", "registers": 40, "spills": 0, "shared_bytes": 0,
                  "num_warps": 4, "num_stages": 3, "ld_global": 8, "error": None}]
    best = Attempt(candidate_id="r1-c0", iteration=1, source_sha="0", source=(SOLUTIONS / "gelu_scale.py").read_text(),
                   verdict="accepted", accepted=True,
                   check=CheckFacts(timing=None, roofline=None, resources=resources, launches={"gelu_scale_kernel": 7}))
    ctx = RunContext(problem_path=PROBLEMS / "gelu_scale.py", run_dir=tmp_path / "run", home=tmp_path / "home", check=CheckOptions(device="cpu"))
    got = profile_body({"best": best}, ctx)["profile"]
    p = got.model_dump(mode="json", exclude_unset=True) if hasattr(got, "model_dump") else got
    assert list(p)[:4] == ["candidate_id", "tier", "diagnosis", "roofline"]
    assert p["tier"] == 3 and p["candidate_id"] == "r1-c0" and p["resources"] == resources and p["timing"] is None
    assert p["metrics"]["kernels"][0]["registers_per_thread"] == 40 and p["metrics"]["kernels"][0]["theoretical_occupancy_pct"] == 75
    assert p["roofline"]["t_sol_ms"] > 0 and p["roofline"]["bound"] in ("memory", "latency-or-launch")
    assert "gelu_scale_kernel: 40 regs/thread" in p["diagnosis"]
    assert any(m.startswith("tier 1 unavailable") for m in p["missing"])
