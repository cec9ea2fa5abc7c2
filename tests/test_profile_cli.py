"""`kernelwright profile` on the CPU: tier 3 (sm_90 resources) with tiers 1-2 listed as unavailable."""

from __future__ import annotations

import json
import subprocess
import sys

from kernelwright.cli import main
from kernelwright.tools.problem import load_problem
from kernelwright.tools.profile.roofline import classify_bound

from paths import PROBLEMS, SOLUTIONS


def test_profile_of_a_triton_solution_on_the_cpu(tmp_path):
    home = tmp_path / "home"
    proc = subprocess.run(
        [sys.executable, "-m", "kernelwright", "profile", str(PROBLEMS / "gelu_scale.py"), str(SOLUTIONS / "gelu_scale.py"),
         "--json", "--home", str(home)],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    p = json.loads(proc.stdout)
    assert p["tier"] == 3 and p["tier_name"] == "static" and p["device"] == "cpu" and p["subject"] == "solution"
    [r] = p["resources"]
    assert r["kernel"] == "gelu_scale_kernel" and r["arch"] == "sm_90" and r["error"] is None
    assert r["registers"] > 0 and r["spills"] == 0 and r["ld_global"] > 0
    [k] = p["metrics"]["kernels"]
    assert k["registers_per_thread"] == r["registers"] and 0 < k["theoretical_occupancy_pct"] <= 100
    assert p["missing"][:2] == ["tier 1 unavailable: no CUDA GPU here (device cpu)", "tier 2 unavailable: no CUDA GPU here (device cpu)"]
    sizes = load_problem(PROBLEMS / "gelu_scale.py").constants
    roof = p["roofline"]
    assert roof["bytes"] == 2 * sizes["batch_size"] * sizes["dim"] * 4 and roof["flops"] == 0
    assert roof["peaks"]["gpu"] == "H100 SXM" and roof["measured_ms"] is None and roof["pct_of_sol"] is None
    assert roof["bound"] == classify_bound(roof["t_memory_ms"], roof["t_compute_ms"])
    assert p["diagnosis"].startswith(f"{roof['bound']}-bound; SoL ") and "gelu_scale_kernel" in p["diagnosis"]
    assert "profile: tier 3 (static)" in proc.stderr  # progress on stderr, one JSON object on stdout
    assert (home / "problem_costs.json").exists()


def test_profile_of_the_reference_and_bad_input(tmp_path, capsys):
    home = str(tmp_path / "home")
    assert main(["profile", str(PROBLEMS / "softmax_rows.py"), "--reference", "--json", "--home", home]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["tier"] == 3 and p["subject"] == "reference" and p["solution"] is None and p["resources"] is None
    assert any(m.startswith("static resources: the reference is eager PyTorch") for m in p["missing"])
    assert p["roofline"]["t_sol_ms"] > 0
    assert main(["profile", str(PROBLEMS / "softmax_rows.py"), "--home", home]) == 2
    assert "give a SOLUTION file or --reference" in capsys.readouterr().err
    assert main(["profile", str(PROBLEMS / "softmax_rows.py"), str(SOLUTIONS / "softmax_rows.py"), "--tier", "2", "--home", home]) == 2
    assert "--tier 2 (timeline) cannot run here: no CUDA GPU here" in capsys.readouterr().err
    assert main(["profile", str(PROBLEMS / "softmax_rows.py"), str(tmp_path / "nope.py"), "--home", home]) == 2
    assert "solution file not found" in capsys.readouterr().err
