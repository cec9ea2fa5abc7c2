"""GPU tests of `kernelwright profile`: tier 1 (Nsight Compute) on a Triton solution and on the
reference, and the forced fallbacks --tier 2 and --tier 3. Run on the device machine: pytest -m gpu."""

import json
import subprocess
import sys

import pytest

from kernelwright.tools.profile.ncu import find_ncu
from kernelwright.tools.profile.tiers import ProfileOptions, profile_solution

from paths import PROBLEMS, SOLUTIONS

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    # One home for the module: the device peaks are measured once, then cached.
    return tmp_path_factory.mktemp("kw-home")


@pytest.fixture
def ncu():
    path = find_ncu()
    if path is None:
        pytest.skip("ncu not found on this machine (tier 1 needs Nsight Compute)")
    return path


def test_tier_1_on_a_triton_solution(home, ncu):
    p = profile_solution(PROBLEMS / "softmax_rows.py", SOLUTIONS / "softmax_rows.py", ProfileOptions(device="cuda", home=home))
    assert p["tier"] == 1, p["missing"]
    m = p["metrics"]
    assert [k["name"] for k in m["kernels"]] == ["softmax_kernel"] and m["kernel_filter"] == "regex:^(softmax_kernel)$"
    assert m["kernels"][0]["launches_per_call"] == 1 and m["duration_ms"] > 0
    assert 0 < m["dram_pct"] <= 100 and 0 < m["sm_pct"] <= 100 and m["registers_per_thread"] > 0
    assert 0 < m["achieved_occupancy_pct"] <= m["theoretical_occupancy_pct"] + 5
    roof = p["roofline"]
    assert roof["measured_by"].startswith("ncu") and roof["measured_ms"] == m["duration_ms"] and roof["pct_of_sol"] > 0
    assert roof["peaks"]["source"].startswith("measured")
    assert "% of peak (the busiest unit)" in p["diagnosis"] and "headroom to SoL" in p["diagnosis"]


def test_tier_1_on_the_reference(home, ncu):
    p = profile_solution(PROBLEMS / "softmax_rows.py", None, ProfileOptions(device="cuda", home=home))
    assert p["tier"] == 1 and p["subject"] == "reference", p["missing"]
    m = p["metrics"]
    assert m["kernel_filter"].startswith("none") and m["kernels"] and m["duration_ms"] > 0
    assert all("softmax_kernel" != k["name"] for k in m["kernels"])  # eager PyTorch's own kernels


def test_forced_tier_2_timeline(home):
    p = profile_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", ProfileOptions(device="cuda", home=home, tier=2))
    assert p["tier"] == 2, p["missing"]
    m = p["metrics"]
    assert m["calls"] >= 10 and m["event_ms"] > 0 and m["busy_ms"] > 0 and m["launches_per_call"] >= 1
    own = [k for k in m["kernels"] if k["own"]]
    assert [k["short_name"] for k in own] == ["gelu_scale_kernel"] and own[0]["launches_per_call"] == 1
    assert m["unattributed_activities"] >= m["calls"]  # the L2 flush before each call is not the forward's
    assert p["roofline"]["measured_by"].startswith("CUDA events") and not any(x.startswith("tier 1") for x in p["missing"])


def test_forced_tier_3_static_on_the_gpu(home):
    p = profile_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", ProfileOptions(device="cuda", home=home, tier=3))
    assert p["tier"] == 3, p["missing"]
    [r] = p["resources"]
    assert r["kernel"] == "gelu_scale_kernel" and r["error"] is None and r["registers"] > 0
    assert r["arch"] == p["versions"]["sm"]  # compiled for the GPU here
    assert p["roofline"]["measured_ms"] is None and "timing: the static tier runs no kernel" in p["missing"]


def test_cli_profile_json_on_the_gpu(home, ncu, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kernelwright", "profile", str(PROBLEMS / "gelu_scale.py"), str(SOLUTIONS / "gelu_scale.py"),
         "--json", "--home", str(home)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    p = json.loads(proc.stdout)
    assert p["tier"] == 1 and p["metrics"]["kernels"][0]["name"] == "gelu_scale_kernel"
