"""The offline expert policy on a GPU, at the suite's GPU sizes, one problem per family:
`kernelwright run PROBLEM --policy expert --device cuda --json`, two rounds (the second picks its
space from the first round's profile). Run on the device machine: pytest -m gpu -s
tests/test_gpu_expert.py (each problem takes one to four minutes: the torch.compile baselines are
measured once per problem). The speedups are printed; the suite figures come from `kernelwright bench`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from paths import PROBLEMS

pytestmark = pytest.mark.gpu

FAMILIES = {"elementwise": "gelu_scale", "rows": "layer_norm", "matmul": "linear_gelu_bf16"}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_expert_run_on_the_gpu_is_accepted_and_timed(tmp_path, family, capsys):
    problem = PROBLEMS / f"{FAMILIES[family]}.py"
    env = {k: v for k, v in os.environ.items() if k not in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY")}
    proc = subprocess.run([sys.executable, "-m", "kernelwright", "run", str(problem), "--policy", "expert", "--device", "cuda",
                           "--json", "--max-iters", "2", "--home", str(tmp_path / "home")],
                          capture_output=True, text=True, env=env, timeout=1200, cwd=tmp_path)  # not the repo root: its kernelwright/ shadows the install
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["accepted"] is True and summary["status"] == "finished", summary
    speedup = summary["best"]["speedup"]
    assert isinstance(speedup["eager"], float) and speedup["eager"] > 0, summary["best"]
    solution = open(summary["solution_path"]).read()
    assert f"# kernelwright expert policy: family={family}" in solution and "@triton.autotune(" in solution
    report = json.loads(open(os.path.join(summary["run_dir"], "report.json")).read())
    timed = [a for a in report["attempts"] if a["median_ms"]]
    with capsys.disabled():
        print(f"\n[gpu expert] {problem.stem} ({family}): best {summary['best']['candidate_id']} median "
              f"{summary['best']['median_ms']:.4f} ms; speedup " + ", ".join(f"{k} {v:.2f}x" for k, v in speedup.items() if v)
              + "; attempts " + ", ".join(f"{a['candidate_id']}={a['verdict']}/{a['median_ms']}" for a in report["attempts"]))
    assert len(timed) >= 1
