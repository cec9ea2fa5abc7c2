"""GPU tests of the timing protocol and its guards. Run on the device machine: pytest -m gpu."""

import textwrap

import pytest

from kernelwright.tools.verdicts import Verdict
from kernelwright.tools.verify import CheckOptions, verify_solution

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
    assert set(r.speedup) == {"eager", "compile", "compile_max_autotune"}
    assert t["profile"]["kernels"] >= 5 and t["profile"]["streams"] == t["profile"]["timed_streams"]
    assert r.roofline["t_sol_ms"] > 0 and 0 < r.roofline["pct_of_sol"] <= 100 / 0.9
    # The second check of the same problem reuses the cached compile baselines.
    again = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home))
    assert again.timing["baselines_cached"] is True


def test_cuda_load_inline_solution_is_accepted_and_counted(home, tmp_path):
    r = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale_cuda.py", opts(home, timing=False))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.launches.get("cuda:gelu_scale", 0) >= 5


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


def test_compat_mode_reports_the_mean_of_100_calls(home, tmp_path):
    r = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts(home, mode="compat"))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.timing["candidate"]["statistic"] == "mean" and r.timing["candidate"]["n"] == 100
    assert all(t["variant"] == "shipped" for t in r.trials) and len(r.trials) == 5
