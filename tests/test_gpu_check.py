"""GPU tests of the timing protocol and its guards. Run on the device machine: pytest -m gpu.

The candidate is timed in the process that checked it (guards still installed) and the reference
eager in the reference process; these tests cover that path with real CUDA timings, the baseline
selection, and cheats that only start once timed."""

import json
import os
import subprocess
import sys
import tempfile
import textwrap

import pytest
from timing_cheats import CONTENT_CACHE, LAZY, shipped_calls, timed_cheat

from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution

from paths import PROBLEMS, SOLUTIONS

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    # One home for the module: the compile baselines of a problem are measured once, then cached.
    return tmp_path_factory.mktemp("kw-home")


def opts(home, **kw):
    return CheckOptions(device="cuda", home=home, **kw)


def test_honest_triton_solution_is_timed_against_all_baselines(home, tmp_path):
    r = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    t = r.timing
    assert t["candidate"]["n"] >= 10 and t["candidate"]["median_ms"] > 0
    assert t["eager"]["before"]["median_ms"] > 0 and t["eager"]["after"]["median_ms"] > 0
    assert "median_ms" in t["compile"] and "median_ms" in t["compile_max_autotune"]
    assert t["baselines_skipped"] == {}
    assert set(r.speedup) == {"eager", "compile", "compile_max_autotune"}
    assert t["profile"]["kernels"] >= 5 and t["profile"]["streams"] == t["profile"]["timed_streams"]
    assert len(t["checked_calls"]) == t["pool_size"]
    assert r.roofline["t_sol_ms"] > 0 and 0 < r.roofline["pct_of_sol"] <= 100 / 0.9
    # The second check of the same problem reuses the cached compile baselines.
    again = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home))
    assert again.verdict is Verdict.ACCEPTED, again.reasons
    assert again.timing["baselines_cached"] is True
    assert {"reference", "candidate", "timing:eager", "timing:candidate"} <= set(again.phases)
    print(f"\ncached check: {again.wall_s:.1f} s wall; phases {again.phases}")
    # A check that selects fewer baselines leaves the others' cached timings where they are.
    fewer = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home, compile_baselines=("compile",)))
    assert fewer.verdict is Verdict.ACCEPTED and fewer.timing["compile_max_autotune"] is None
    cache = json.loads((home / "baselines.json").read_text())
    assert any({"compile", "compile_max_autotune"} <= set(entry) for entry in cache.values()), "selecting fewer drops nothing cached"


def test_baseline_selection_reports_the_skipped_ones(home):
    r = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home, compile_baselines=("compile",)))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert "median_ms" in r.timing["compile"] and r.timing["compile_max_autotune"] is None
    assert "not selected" in r.timing["baselines_skipped"]["compile_max_autotune"]
    assert set(r.speedup) == {"eager", "compile"}
    # The same through the CLI: eager only.
    proc = subprocess.run(
        [sys.executable, "-m", "kernelwright", "check", str(PROBLEMS / "gelu_scale.py"), str(SOLUTIONS / "gelu_scale.py"),
         "--json", "--home", str(home), "--baselines", "eager"],
        capture_output=True, text=True, timeout=600, cwd=tempfile.gettempdir(), env=os.environ,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["timing"]["compile"] is None and result["timing"]["compile_max_autotune"] is None
    assert set(result["timing"]["baselines_skipped"]) == {"compile", "compile_max_autotune"}
    assert set(result["speedup"]) == {"eager"}


def test_cuda_load_inline_solution_is_accepted_counted_and_timed(home, tmp_path):
    r = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale_cuda.py", opts(home, compile_baselines=()))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.launches.get("cuda:gelu_scale", 0) >= 5
    # Its timed calls count as the solution's own launches too (no no_custom_kernel).
    assert r.timing["candidate"]["n"] >= 10


def test_side_stream_work_is_a_timing_escape_even_past_the_static_scan(home, tmp_path):
    src = (SOLUTIONS / "gelu_scale.py").read_text().replace(
        "        gelu_scale_kernel[(triton.cdiv(n, BLOCK),)](x, y, n, self.scale, BLOCK=BLOCK)\n",
        textwrap.indent(
            textwrap.dedent(
                """
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    gelu_scale_kernel[(triton.cdiv(n, BLOCK),)](x, y, n, self.scale, BLOCK=BLOCK)
                torch.cuda.current_stream().wait_stream(side)
                """
            ),
            "        ",
        ),
    )
    cheat = tmp_path / "side_stream.py"
    cheat.write_text(src)
    assert verify_solution(PROBLEMS / "gelu_scale.py", cheat, opts(home)).verdict is Verdict.STATIC_VIOLATION
    r = verify_solution(PROBLEMS / "gelu_scale.py", cheat, opts(home, static_scan=False))
    assert r.verdict is Verdict.TIMING_ESCAPE, r.reasons


@pytest.mark.parametrize(
    "forward, verdict, words",
    [(LAZY, Verdict.WRONG_OUTPUT, "timed call"), (CONTENT_CACHE, Verdict.TIMING_ESCAPE, "returned a tensor that an earlier")],
    ids=["lazy-when-timed", "result-cache"],
)
def test_cheats_that_start_once_timed_are_caught(home, tmp_path, forward, verdict, words):
    cheat = timed_cheat(tmp_path, "cheat", forward, checked=shipped_calls(5))
    # The cache keys on an input value read with .item(): host compute in the checked calls, unless
    # torch ops are allowed, as here, so that the timing phase's own guard is what speaks.
    r = verify_solution(PROBLEMS / "gelu_scale.py", cheat, opts(home, compile_baselines=(), allow_torch_ops=forward is CONTENT_CACHE))
    assert all(t["ok"] for t in r.trials), r.trials
    assert r.verdict is verdict, r.reasons
    assert words in r.reasons[0].message


def test_compat_mode_reports_the_mean_of_100_calls(home, tmp_path):
    r = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home, mode="compat"))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.timing["candidate"]["statistic"] == "mean" and r.timing["candidate"]["n"] == 100
    assert all(t["variant"] == "shipped" for t in r.trials) and len(r.trials) == 5
    assert "compat" in r.timing["baselines_skipped"]["compile"]
