"""Static sm_90 compiles of the solution's kernels on the CPU machine (real child processes)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from kernelwright.tools.resources import compile_resources

from paths import ROOT, SOLUTIONS

DATA = ROOT / "tests" / "data"


def tensor(name: str, dtype: str = "float32") -> dict[str, Any]:
    return {"name": name, "kind": "tensor", "dtype": dtype}


def scalar(name: str, value: Any, kind: str = "int") -> dict[str, Any]:
    return {"name": name, "kind": kind, "value": value}


def sig(kernel: str, args: list[dict[str, Any]], num_warps: int = 4, num_stages: int = 3) -> dict[str, Any]:
    return {"kernel": kernel, "file": "", "args": args, "num_warps": num_warps, "num_stages": num_stages}


GELU = sig("gelu_scale_kernel", [
    tensor("x_ptr"), tensor("y_ptr"), scalar("n", 64000), scalar("scale", 1.7, "float"),
    scalar("BLOCK", 4096, "constexpr"),
])
MATMUL = sig("matmul_kernel", [
    tensor("a_ptr", "float16"), tensor("b_ptr", "float16"), tensor("c_ptr", "float16"),
    *(scalar(n, 1024) for n in ("M", "N", "K", "stride_am", "stride_bk", "stride_cm")),
    scalar("BLOCK_M", 128, "constexpr"), scalar("BLOCK_N", 128, "constexpr"), scalar("BLOCK_K", 64, "constexpr"),
], num_warps=8)
AUTOTUNED = sig("autotuned_copy", [tensor("x_ptr"), tensor("y_ptr"), scalar("n", 5000), scalar("BLOCK", 1024, "constexpr")])
CAST = sig("cast_kernel", [tensor("x_ptr"), tensor("y_ptr", "float16"), {"name": "OUT", "kind": "dtype", "value": "fp16"}])
BROKEN = sig("broken_kernel", [tensor("x_ptr"), scalar("n", 7)])
MISSING = sig("no_such_kernel", [])


@pytest.fixture(scope="module")
def dot_results(tmp_path_factory) -> dict[str, dict[str, Any]]:
    sigs = [BROKEN, MATMUL, MISSING, AUTOTUNED, CAST]
    out = compile_resources(DATA / "dot_kernels.py", sigs, tmp_path_factory.mktemp("res"), timeout_s=120)
    assert [r["kernel"] for r in out] == [s["kernel"] for s in sigs]
    return {r["kernel"]: r for r in out}


def test_gelu_kernel_compiles_for_sm90_even_if_the_parent_interprets(tmp_path, monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # must not reach the child
    [r] = compile_resources(SOLUTIONS / "gelu_scale.py", [GELU], tmp_path, timeout_s=120)
    assert r["error"] is None, r
    assert r["arch"] == "sm_90" and r["registers"] > 0 and r["spills"] >= 0 and r["shared_bytes"] >= 0
    assert r["num_warps"] == 4 and r["num_stages"] == 3
    assert r["ld_global"] > 0 and r["st_global"] > 0 and r["wgmma"] == 0


def test_big_dot_tile_uses_shared_memory_and_tensor_cores(dot_results):
    r = dot_results["matmul_kernel"]
    assert r["error"] is None, r
    assert r["registers"] > 0 and r["spills"] >= 0 and r["num_warps"] == 8
    assert r["shared_bytes"] > 0
    assert r["wgmma"] + r["mma"] > 0


def test_autotuned_kernel_and_dtype_constexpr(dot_results):
    for name in ("autotuned_copy", "cast_kernel"):  # found under its wrapper; tl.float16 from its repr
        r = dot_results[name]
        assert r["error"] is None and r["registers"] > 0, r


def test_uncompilable_or_missing_kernel_is_an_error_entry(dot_results):
    assert "power of 2" in dot_results["broken_kernel"]["error"]
    assert "no_such_kernel" in dot_results["no_such_kernel"]["error"]


@pytest.mark.parametrize(
    "top_level",
    ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "raise RuntimeError('boom at import')", "import time\ntime.sleep(600)"],
)
def test_the_solutions_module_code_never_runs_in_the_compile(tmp_path, top_level):
    # The compile's answer decides whether a CPU check is accepted: the candidate's code must not
    # run in the process that gives it. Its kernels are rebuilt from the source text.
    solution = tmp_path / "solution.py"
    solution.write_text(textwrap.dedent(top_level) + "\n" + (SOLUTIONS / "gelu_scale.py").read_text())
    out = compile_resources(Path(solution), [GELU, MATMUL], tmp_path / "work", timeout_s=120)
    assert out[0]["kernel"] == "gelu_scale_kernel" and out[0]["error"] is None, out
    assert "not a function at the top level" in out[1]["error"] and not out[1].get("unverified"), out


def test_a_compile_the_checker_cannot_finish_is_unverified_not_invalid(tmp_path):
    # 200 compiles (each runs ptxas) in 1.5 s: the budget ends before they do, on any machine.
    out = compile_resources(SOLUTIONS / "gelu_scale.py", [GELU] * 200, tmp_path / "work", timeout_s=1.5)
    failed = [r for r in out if r["error"]]
    assert len(out) == 200 and failed and all(r["unverified"] for r in failed), failed[:2]
    assert all("timed out" in r["error"] or "time budget" in r["error"] for r in failed), failed[:2]


def test_manual_specialization_matches_tritons_binder(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    from triton.backends.compiler import GPUTarget
    from triton.compiler.compiler import make_backend

    from kernelwright.tools.worker import resources as worker
    from kernelwright.tools.worker.events import KernelArg
    from kernelwright.tools.worker.kernel_source import kernels_from_source

    module = kernels_from_source(str(DATA / "dot_kernels.py"))
    backend = make_backend(GPUTarget("cuda", 90, 32))
    for s in (MATMUL, AUTOTUNED):
        fn = worker.find_kernel(module, s["kernel"])
        kwargs = {a["name"]: worker.fake_value(KernelArg.model_validate(a)) for a in s["args"]}
        kwargs.update(num_warps=s["num_warps"], num_stages=s["num_stages"])
        b_sig, b_const, b_attrs, b_opts = worker.binder_spec(fn, kwargs, backend)
        m_sig, m_const, m_attrs, m_opts = worker.manual_spec(fn, kwargs)
        assert (m_sig, m_const) == (b_sig, b_const)
        assert m_attrs == {k: v for k, v in b_attrs.items() if v}
        assert all(b_opts[k] == v for k, v in m_opts.items())


def test_ptxas_log_and_ptx_mix_parsing():
    from kernelwright.tools.worker.resources import parse_ptxas_log, ptx_mix

    log = """ptxas info    : Compiling entry function 'k' for 'sm_90a'
ptxas info    : Function properties for k
    48 bytes stack frame, 40 bytes spill stores, 36 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 16 bytes smem
"""
    assert parse_ptxas_log(log) == {"registers": 255, "spills": 40, "spill_loads": 36, "stack_bytes": 48}
    ptx = "\tld.global.v4.b32 {%r1}, [%rd1];\n\t@%p1 st.global.b32 [%rd2], %r1;\n\twgmma.mma_async.sync;\n"
    mix = ptx_mix(ptx)
    assert (mix["ld_global"], mix["st_global"], mix["wgmma"], mix["mma"]) == (1, 1, 1, 0)
