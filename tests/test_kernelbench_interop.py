"""KernelBench interop as a user meets it: `bench --kernelbench PATH --level N --problems IDS` on
a checkout-shaped folder exports a run folder in KernelBench's own format, and `audit` re-judges a
KernelBench run folder, finding the planted cheats among kernels that all claim to be correct."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from paths import CANDIDATES, PROBLEMS


def kernelwright(*args: str, home: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY")}
    return subprocess.run([sys.executable, "-m", "kernelwright", *args, "--home", str(home), "--json"],
                          capture_output=True, text=True, env=env, timeout=timeout)


def checkout(root: Path, files: dict[str, str]) -> Path:
    """A folder shaped like a KernelBench checkout: KernelBench/level1/{ID}_{Name}.py."""
    level = root / "KernelBench" / "level1"
    level.mkdir(parents=True)
    for name, source in files.items():
        shutil.copyfile(PROBLEMS / source, level / name)
    return root


def test_bench_reads_a_kernelbench_level_and_exports_its_run_folder(tmp_path):
    kb = checkout(tmp_path / "kb", {"1_gelu_scale.py": "gelu_scale.py", "2_embedding_layernorm.py": "embedding_layernorm.py",
                                    "12_add_mul.py": "add_mul.py"})
    lean = tmp_path / "lean.yaml"
    lean.write_text("check: {static_resources: false}\nprofile: {tier: off}\n")
    proc = kernelwright("bench", "--kernelbench", str(kb), "--level", "1", "--problems", "1-2", "--device", "cpu",
                        "--max-iters", "1", "--jobs", "1", "--id", "kb1", "--config", str(lean), home=tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    # Problem 12 was not asked for; 1 and 2 run in KernelBench's numeric order.
    assert [r["problem"] for r in report["problems"]] == ["1_gelu_scale", "2_embedding_layernorm"]
    export = Path(report["files"]["kernelbench"])
    assert sorted(p.name for p in export.iterdir()) == ["eval_results.json", "level_1_problem_1_sample_0_kernel.py"]
    solution = Path(report["problems"][0]["run_dir"]) / "solution.py"
    assert (export / "level_1_problem_1_sample_0_kernel.py").read_text() == solution.read_text()
    evals = json.loads((export / "eval_results.json").read_text())
    # The fields KernelBench's analysis script reads, per problem id, sample 0.
    assert list(evals) == ["1", "2"]
    first, second = evals["1"][0], evals["2"][0]
    assert {"sample_id", "compiled", "correctness", "metadata", "runtime", "runtime_stats"} <= set(first)
    assert (first["sample_id"], first["correctness"], second["correctness"]) == (0, True, False)
    assert first["runtime"] == -1.0  # no timing on the CPU: KernelBench's "not measured"


def test_bench_kernelbench_flags_are_checked_before_anything_is_written(tmp_path):
    kb = checkout(tmp_path / "kb", {"1_gelu_scale.py": "gelu_scale.py"})
    home = tmp_path / "home"
    for args, words in ((["--kernelbench", str(kb)], "--level N"),
                        (["--kernelbench", str(kb), "--level", "2"], "no KernelBench/level2 folder"),
                        (["--kernelbench", str(kb), "--level", "1", "--problems", "5-2"], "1-20,23"),
                        (["--kernelbench", str(kb), "--level", "1", "--problems", "7"], "no problem")):
        proc = kernelwright("bench", *args, "--device", "cpu", home=home, timeout=60)
        assert proc.returncode == 2 and words in proc.stderr, (args, proc.stderr)
        assert not (home / "bench").exists()


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A KernelBench run folder whose eval record claims every kernel correct and 3x faster."""
    tmp = tmp_path_factory.mktemp("audit")
    kb = checkout(tmp / "kb", {"1_add_mul.py": "add_mul.py"})
    run = tmp / "runs" / "claimed"
    run.mkdir(parents=True)
    kernels = {0: "honest_2d_grid.py", 1: "zeros_trivial_kernel.py", 2: "write_into_second_input.py"}
    for sample, name in kernels.items():
        shutil.copyfile(CANDIDATES / "add_mul" / name, run / f"level_1_problem_1_sample_{sample}_kernel.py")
    (run / "level_1_problem_1_sample_3_kernel.py").write_text("import torch\n\nclass NotAModel:\n    pass\n")
    shutil.copyfile(CANDIDATES / "add_mul" / "honest_2d_grid.py", run / "level_1_problem_9_sample_0_kernel.py")
    claim = {"compiled": True, "correctness": True, "metadata": {}, "runtime": 1.0, "runtime_stats": {}, "ref_runtime": 3.0}
    evals = {"1": [{**claim, "sample_id": s} for s in range(4)], "9": [{**claim, "sample_id": 0}]}
    (run / "eval_results.json").write_text(json.dumps(evals))
    proc = kernelwright("audit", str(run), "--kernelbench", str(kb), "--device", "cpu", home=tmp / "home")
    return proc


def test_audit_finds_the_planted_cheats_and_keeps_the_honest_kernel(audited):
    assert audited.returncode == 1, audited.stderr  # some claim is refuted
    report = json.loads(audited.stdout)
    by_kernel = {(r["problem"], r["sample"]): r for r in report["records"]}
    honest = by_kernel[(1, 0)]
    assert (honest["verdict"], honest["correctness"]) == ("accepted", "held")
    assert honest["claimed_speedup"] == 3.0 and honest["speed"] == "unchecked"  # no timing on the CPU
    assert (by_kernel[(1, 1)]["verdict"], by_kernel[(1, 1)]["correctness"]) == ("wrong_output", "refuted")
    assert (by_kernel[(1, 2)]["verdict"], by_kernel[(1, 2)]["correctness"]) == ("input_mutated", "refuted")
    # A claimed-faster kernel that is not correct is not faster either.
    assert by_kernel[(1, 1)]["speed"] == by_kernel[(1, 2)]["speed"] == "refuted"
    # A file without ModelNew, and a kernel for a problem the checkout lacks: refuted, the audit goes on.
    assert (by_kernel[(1, 3)]["verdict"], by_kernel[(1, 3)]["correctness"]) == ("invalid_kernel", "refuted")
    assert by_kernel[(9, 0)]["verdict"] == "no_problem" and by_kernel[(9, 0)]["correctness"] == "refuted"
    assert (report["kernels"], report["refuted"], report["correct_held"]) == (5, 4, 1)


def test_audit_of_a_folder_without_kernels_is_bad_input(tmp_path):
    kb = checkout(tmp_path / "kb", {"1_add_mul.py": "add_mul.py"})
    (tmp_path / "empty").mkdir()
    proc = kernelwright("audit", str(tmp_path / "empty"), "--kernelbench", str(kb), home=tmp_path / "home", timeout=60)
    assert proc.returncode == 2 and "no level_L_problem_P_sample_S_kernel.py file" in proc.stderr
