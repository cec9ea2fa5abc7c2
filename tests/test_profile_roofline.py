"""Roofline arithmetic against hand-worked examples, the table of known cards, and the reference's
bytes and flops counted in a real child process (meta device, and the fallback when meta fails)."""

from __future__ import annotations

import textwrap

import pytest

from kernelwright.tools.profile.roofline import (
    KNOWN_CARDS,
    classify_bound,
    datasheet_peaks,
    known_card,
    problem_cost,
    roofline_report,
)

H100_MEASURED = {"gpu": "NVIDIA H100 80GB HBM3", "bandwidth_Bps": 3.0e12, "flops": {"fp32": 50e12, "bf16": 750e12}}


def test_elementwise_4096_squared_fp32_at_3_tb_per_s():
    # Hand-worked: read 4096*4096 fp32 (64 MiB), write the same: 134,217,728 B; at 3.0 TB/s that
    # is 44.739 us. A kernel measured at 55.9 us runs at 80% of SoL, 1.25x headroom.
    nbytes = 2 * 4096 * 4096 * 4
    assert nbytes == 134_217_728
    r = roofline_report({"bytes": nbytes, "flops": 0, "dtype": "float32"}, H100_MEASURED, measured_ms=0.05592, measured_by="test")
    assert r["t_sol_ms"] == pytest.approx(0.0447392, rel=1e-6)
    assert r["bound"] == "memory" and r["t_compute_ms"] == 0
    assert r["pct_of_sol"] == pytest.approx(80.0, abs=0.01) and r["headroom"] == pytest.approx(1.25, abs=1e-3)
    assert r["peaks"]["source"] == "measured"


def test_bf16_matmul_2048_cubed_is_compute_bound_on_the_datasheet_h100():
    # Hand-worked: 2*M*N*K = 17,179,869,184 flop at 989.5 TFLOP/s = 17.36 us; A, B and C in bf16
    # are 3*2048*2048*2 = 25,165,824 B at 3.35 TB/s = 7.51 us: compute-bound, SoL 17.36 us.
    flops, nbytes = 2 * 2048**3, 3 * 2048 * 2048 * 2
    r = roofline_report({"bytes": nbytes, "flops": flops, "dtype": "bfloat16"}, datasheet_peaks("H100 SXM"))
    assert flops == 17_179_869_184
    assert r["t_compute_ms"] == pytest.approx(0.0173621, rel=1e-4) and r["t_memory_ms"] == pytest.approx(0.0075122, rel=1e-4)
    assert r["bound"] == "compute" and r["t_sol_ms"] == r["t_compute_ms"] and r["dtype"] == "bf16"
    assert r["arithmetic_intensity"] == pytest.approx(flops / nbytes) and r["pct_of_sol"] is None
    assert r["peaks"]["source"].startswith("datasheet: NVIDIA H100")


def test_bound_classification():
    assert classify_bound(0.045, 0.0) == "memory"
    assert classify_bound(0.0075, 0.0174) == "compute"
    # 64x1000 fp32 elementwise: 512 KB, 0.17 us of DRAM time: any launch costs more.
    assert classify_bound(512_000 / 3.0e12 * 1000, 0.0) == "latency-or-launch"
    # A forward whose kernels keep the GPU busy 10 of 40 us waits on launches.
    assert classify_bound(0.009, 0.0, measured_ms=0.040, busy_ms=0.010) == "latency-or-launch"
    assert classify_bound(0.009, 0.0, measured_ms=0.012, busy_ms=0.011) == "memory"


@pytest.mark.parametrize("name, card", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H100 NVL", "H100 NVL"),
    ("NVIDIA H200", "H200 SXM"), ("NVIDIA A100-SXM4-40GB", "A100 SXM 40GB"), ("NVIDIA A100-SXM4-80GB", "A100 SXM 80GB"),
    ("NVIDIA A100 80GB PCIe", "A100 PCIe 80GB"), ("NVIDIA A100-PCIE-40GB", "A100 PCIe 40GB"), ("NVIDIA L4", "L4"),
    ("NVIDIA L40S", "L40S"), ("NVIDIA A10", "A10"), ("NVIDIA GeForce RTX 4090", "RTX 4090"), ("Tesla T4", None),
])
def test_known_cards_by_device_name(name, card):
    assert known_card(name) == card


def test_every_known_card_has_bandwidth_dense_rates_and_a_source():
    for card, entry in KNOWN_CARDS.items():
        assert entry["bandwidth_Bps"] > 1e11 and entry["source"], card
        rates = entry["flops"]
        assert set(rates) == {"fp32", "tf32", "bf16", "fp16"}, card
        assert rates["fp32"] <= rates["tf32"] <= rates["bf16"] == rates["fp16"], card


MATMUL = """
import torch
import torch.nn as nn

class Model(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, a, b):
        return torch.matmul(a, b) * SCALE_EXPR

M = 64
K = 48
N = 32

def get_inputs():
    return [torch.randn(M, K), torch.randn(K, N)]

def get_init_inputs():
    return [2.0]
"""


def test_problem_cost_counts_matmul_flops_and_bytes_on_the_meta_device(tmp_path):
    problem = tmp_path / "mm.py"
    problem.write_text(textwrap.dedent(MATMUL).replace("SCALE_EXPR", "self.scale"))
    home = tmp_path / "home"
    cost = problem_cost(problem, "cpu", tmp_path / "w1", 120, home)
    assert cost["ok"] and cost["counted_on"] == "meta" and not cost["cached"]
    assert cost["flops"] == 2 * 64 * 48 * 32 and cost["flops_by_op"] == {"aten.mm": 2 * 64 * 48 * 32}
    assert cost["bytes"] == (64 * 48 + 48 * 32 + 64 * 32) * 4 and cost["output"] == {"shape": [64, 32], "dtype": "float32"}
    again = problem_cost(problem, "cpu", tmp_path / "w2", 120, home)
    assert again["cached"] and again["flops"] == cost["flops"] and not (tmp_path / "w2").exists()


def test_problem_cost_runs_for_real_where_meta_cannot_and_reports_a_broken_reference(tmp_path):
    data_dependent = tmp_path / "dd.py"
    data_dependent.write_text(textwrap.dedent(MATMUL).replace("SCALE_EXPR", "a.abs().max().item()"))
    cost = problem_cost(data_dependent, "cpu", tmp_path / "w1", 120)
    assert cost["ok"] and cost["counted_on"] == "cpu" and cost["flops"] == 2 * 64 * 48 * 32
    broken = tmp_path / "broken.py"
    broken.write_text(textwrap.dedent(MATMUL).replace("SCALE_EXPR", "undefined_name"))
    bad = problem_cost(broken, "cpu", tmp_path / "w2", 120)
    assert not bad["ok"] and "NameError" in bad["error"]
