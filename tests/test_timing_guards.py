"""The timing guards: their arithmetic on recorded numbers, the timing loop's call watch, the
baseline selection, and the whole timed check on the CPU with CUDA's events faked (the GPU
tests in tests/test_gpu_check.py exercise the same paths with real timings)."""

import dataclasses
import json
import subprocess
import sys
import textwrap
import types
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from timing_cheats import CONTENT_CACHE, LAZY, LAZY_THEN_ERASE, LAZY_THEN_REWRITE, shipped_calls, timed_cheat

from kernelwright.tools.check.baselines import parse_baselines
from kernelwright.tools.check.guards import poisoned_mask
from kernelwright.tools.check.timing import _apply_guards, _recheck, _recheck_samples
from kernelwright.tools.check.tolerance import DEFAULT
from kernelwright.tools.check.verdicts import CheckResult, Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.profile.roofline import speed_of_light
from kernelwright.tools.sealed import seal, unseal
from kernelwright.tools.worker.call_watch import CallWatch
from kernelwright.tools.worker.common import RewrittenFile, save_tensors
from kernelwright.tools.worker.events import TimingEvent
from kernelwright.tools.worker.output_file import write_output
from kernelwright.tools.worker.reference_protocol import CaseReport, TensorSpec, VariantReport

from paths import PROBLEMS, ROOT, SOLUTIONS

PEAKS = {"gpu": "TestGPU", "bandwidth_Bps": 3.0e12, "flops": {"bf16": 8.0e14, "fp16": 8.0e14, "fp32": 5.0e13}}
SHIPPED = VariantReport(name="shipped", kind="shipped", constants={}, skipped_cases=[], bytes=3 * 10**9, flops=0,
                        cases=[CaseReport(id="shipped-0", seed=1, kind="plain", detail="", output=TensorSpec(shape=[10], dtype="float32"))])
STATS = {"median_ms": 1.0, "mean_ms": 1.0, "iqr_ms": 0.0, "min_ms": 1.0, "n": 100, "statistic": "median", "value_ms": 1.0}


def timing_event(profile, saved, **fields):
    """A candidate's timing event: clean but for `profile` and `fields` (what these tests vary)."""
    profile = {"calls": 5, "kernels": 1, "names": [], "kernel_names": [], **profile}
    clean = {"event": "timing", "stats": STATS, "warmup_calls": 10, "flush_bytes": 0, "host_call_us": 1.0, "head_start_us": 0.0,
             "profile": profile, "saved_outputs": 1, "saved_digests": saved, "checked_calls": [0], "sampled_calls": 0,
             "malformed_calls": [], "timed_calls": 100, "calls_without_own_launch": [], "reused_outputs": [], "own_launches": 100,
             "compute_ops": {}, "host_ops": {}, "moved_bytes_per_call": 0, "state_changes": [], "rng_changed": False, "new_threads": 0}
    return TimingEvent.model_validate({**clean, **fields})


def run_guards(tmp_path, median_ms, profile, **fields):
    home = tmp_path / "home"
    home.mkdir()
    (home / "peaks.json").write_text(json.dumps({f"TestGPU|torch {torch.__version__}": seal(PEAKS)}))
    (tmp_path / "r").mkdir()
    (tmp_path / "c").mkdir()
    # One pool slot whose timed output matches the reference's: these tests are about the arithmetic.
    save_tensors(tmp_path / "r" / "timed_0.pt", {"slot": 0, "out": torch.ones(10)})
    digest = write_output(tmp_path / "c" / "timed_0.pt", {"slot": 0, "out": torch.ones(10)})
    saved = {"timed_0.pt": digest, "timed_samples.pt": write_output(tmp_path / "c" / "timed_samples.pt", None)}
    result = CheckResult(verdict=Verdict.ACCEPTED, versions={"gpu": "TestGPU"})
    result.timing = {"candidate": {"median_ms": median_ms}, "pool_size": 1}
    opts = types.SimpleNamespace(home=home, mode="strict", timeout_s=10, allow_torch_ops=False, tolerances=DEFAULT)
    _apply_guards(result, timing_event(profile, saved, **fields), tmp_path / "r", tmp_path / "c", "cuda:0", opts, SHIPPED, tmp_path)
    return result


CLEAN = {"streams": [7], "timed_streams": [7], "kernel_ms": 4.9, "event_ms": 5.0}


def test_speed_of_light_arithmetic():
    sol = speed_of_light(3 * 10**9, 2 * 10**12, PEAKS, "fp32")
    assert abs(sol["t_memory_ms"] - 1.0) < 1e-9  # 3 GB at 3 TB/s
    # 2 TFLOP at the 3xTF32 rate: bf16 800 -> TF32 400 -> /3 = 133 TFLOP/s, above the 50 of fp32
    assert abs(sol["t_compute_ms"] - 15.0) < 1e-9
    cuda_cores_only = speed_of_light(3 * 10**9, 2 * 10**12, {**PEAKS, "flops": {"fp32": 5.0e13}}, "fp32")
    assert abs(cuda_cores_only["t_compute_ms"] - 40.0) < 1e-9  # 2 TFLOP at 50 TFLOP/s
    assert sol["bound"] == "compute" and sol["t_sol_ms"] == sol["t_compute_ms"]
    generous = speed_of_light(3 * 10**9, 2 * 10**12, PEAKS, "fp32", generous=True)
    assert abs(generous["t_compute_ms"] - 2.5) < 1e-9  # the fastest (bf16) rate


def test_an_honest_time_near_the_speed_of_light_passes(tmp_path):
    r = run_guards(tmp_path, 1.05, CLEAN)
    assert r.verdict is Verdict.ACCEPTED
    assert abs(r.roofline["pct_of_sol"] - 100 / 1.05) < 1e-6


def test_faster_than_light_is_impossible_speed(tmp_path):
    r = run_guards(tmp_path, 0.5, CLEAN)
    assert r.verdict is Verdict.IMPOSSIBLE_SPEED
    assert "speed of light" in r.reasons[0].message


def test_kernels_on_a_side_stream_are_a_timing_escape(tmp_path):
    r = run_guards(tmp_path, 1.2, {**CLEAN, "streams": [7, 13]})
    assert r.verdict is Verdict.TIMING_ESCAPE and "13" in r.reasons[0].message


def test_kernel_time_beyond_the_event_window_is_a_timing_escape(tmp_path):
    r = run_guards(tmp_path, 1.2, {**CLEAN, "kernel_ms": 9.0, "event_ms": 5.0})
    assert r.verdict is Verdict.TIMING_ESCAPE


@pytest.mark.parametrize(
    "event, verdict, words",
    [
        ({"calls_without_own_launch": [3, 4, 5]}, Verdict.NO_CUSTOM_KERNEL, "3 of 100 timed calls (#3, 4, 5) launched none"),
        ({"compute_ops": {"gelu": 2}}, Verdict.TORCH_COMPUTE, "aten.gelu x2"),
        ({"new_threads": 1}, Verdict.STATIC_VIOLATION, "started 1 thread"),
        ({"state_changes": ["matmul.allow_tf32: False -> True"]}, Verdict.GLOBAL_STATE, "allow_tf32"),
        ({"rng_changed": True}, Verdict.GLOBAL_STATE, "RNG"),
        ({"reused_outputs": [4, 5, 6, 7, 8, 9]}, Verdict.TIMING_ESCAPE, "6 of 100 timed calls (#4, 5, 6, 7, 8, ...) returned a tensor"),
    ],
    ids=["no-own-launch", "warmup-torch-compute", "thread", "global-state", "rng", "result-cache"],
)
def test_the_timing_phase_is_guarded_like_the_checked_calls(tmp_path, event, verdict, words):
    r = run_guards(tmp_path, 1.2, CLEAN, **event)
    assert r.verdict is verdict, r.reasons
    assert words in r.reasons[0].message


def test_call_watch_checks_random_calls_and_sees_a_returned_tensor_again():
    launches = iter(range(1000))
    watch = CallWatch(keep=3, ring=2, launches=lambda: next(launches))
    fresh = [torch.zeros(4) for _ in range(40)]
    for i, out in enumerate(fresh):
        watch.before()
        watch.after(i, i % 2, out)
    assert len(watch.kept) == 3 and not watch.reused and not watch.without_own_launch
    picks = {index for _, index, _ in watch.kept}
    assert picks != {37, 38, 39} and all(fresh[i] is out for _, i, out in watch.kept)
    # A result cache: call i returns what call i - 2 (same input slot) returned.
    cache = CallWatch(ring=2)
    outs = [torch.zeros(4), torch.zeros(4)]
    for i in range(6):
        cache.after(i, i % 2, outs[i % 2])
    assert cache.reused == [2, 3, 4, 5]


def test_outputs_let_go_of_are_poisoned_so_uninitialised_memory_never_passes():
    watch = CallWatch(keep=2, ring=2, poison_released=True)
    outs = [torch.full((8,), float(i)) for i in range(12)]
    for i, out in enumerate(outs):
        watch.after(i, i % 2, out)
    held = {id(o) for o in watch.recent} | {id(o) for _, _, o in watch.kept}
    assert 2 <= len(held) <= 4
    for out in outs:
        assert bool(poisoned_mask(out).all()) is (id(out) not in held)


def test_the_rechecked_calls_are_spread_over_the_run():
    """Reservoir sampling: over many runs each call index is picked about equally often."""
    counts = [0] * 10
    for _ in range(600):
        watch = CallWatch(keep=2)
        for i in range(10):
            watch.after(i, 0, None)
        for _, index, _ in watch.kept:
            counts[index] += 1
    assert min(counts) > 60 and max(counts) < 180, counts  # expected 120 each


def test_every_timed_call_is_compared_at_the_sampled_positions():
    ref = torch.full((64,), 1e-3)
    ref[0] = 100.0  # the largest magnitude sets atol_eff = min(1e-4, 1e-3 * 100) for the whole output
    positions = torch.arange(1, 64, 2)
    honest = ref[positions] + 5e-5  # within atol_eff, though 50x the sampled values' own kappa * max
    lazy = torch.zeros_like(honest)
    samples = {"positions": [positions], "calls": [(0, 0), (1, 1), (7, 1)], "values": [torch.stack([honest, honest, honest])]}
    assert _recheck_samples(samples, {0: ref, 1: ref}, "strict", DEFAULT) is None
    samples["values"] = [torch.stack([honest, honest, lazy])]
    message = _recheck_samples(samples, {0: ref, 1: ref}, "strict", DEFAULT)
    assert message.startswith("timed call #7 (input slot 1) is wrong at 32 sampled positions"), message


def test_baseline_selection():
    assert parse_baselines("eager,compile") == ("compile",)
    assert parse_baselines("compile_max_autotune, eager") == ("compile_max_autotune",)
    assert parse_baselines("eager") == ()
    with pytest.raises(Exception, match="--baselines eager,fast: expected a comma-separated list"):
        parse_baselines("eager,fast")


def test_cli_rejects_an_unknown_baseline_before_running_anything():
    proc = subprocess.run(
        [sys.executable, "-m", "kernelwright", "check", str(PROBLEMS / "gelu_scale.py"), str(SOLUTIONS / "gelu_scale.py"), "--baselines", "turbo"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 2 and "kernelwright: error: --baselines turbo" in proc.stderr.strip().splitlines()[-1]


# ---- the whole timed check on the CPU, CUDA's events faked --------------------------------------

# Put on the children's PYTHONPATH: CUDA events become host clocks, the L2 flush a small buffer and
# the profiler a fixed clean answer. What stays real: the reference process timing eager twice,
# the candidate timed in its checked process (guards, call watch, signed events), the parent's
# orchestration, re-check and guards.
FAKE_CUDA = textwrap.dedent(
    """
    import time
    import torch

    class _Event:
        def __init__(self, enable_timing=False):
            self.t = None
        def record(self, stream=None):
            self.t = time.perf_counter()
        def elapsed_time(self, other):
            return (other.t - self.t) * 1000.0

    torch.cuda.Event = _Event
    torch.cuda.synchronize = lambda *a, **k: None
    torch.cuda.set_device = lambda *a, **k: None
    torch.cuda._sleep = lambda cycles: None  # the head start's spin kernel

    import kernelwright.tools.worker.candidate_timing as candidate_timing
    import kernelwright.tools.worker.timing as timing

    def _profile(model, buffers, calls=5):
        for _ in range(calls):
            model(*buffers)
        return {"calls": calls, "kernels": calls, "streams": [7], "timed_streams": [7], "kernel_ms": 0.0, "event_ms": 1.0, "names": [], "kernel_names": []}

    _flush = timing.L2Flush  # the real flush, on a small CPU buffer: its reduction runs beside the op accounting
    timing.L2Flush = lambda device: _flush(device, nbytes=4096)
    candidate_timing.profile_streams = _profile
    """
)


# A reference whose output counts the library's reduced-precision shortcuts switched on when it
# runs (cuBLAS 16-bit split-K reductions, TF32): the exact solution (x + 0) matches only if every
# reference output it is compared with, checked cases and timed calls alike, ran with them off.
SHORTCUTS_PROBLEM = textwrap.dedent(
    """
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def forward(self, x):
            m, c = torch.backends.cuda.matmul, torch.backends.cudnn
            on = (m.allow_bf16_reduced_precision_reduction, m.allow_fp16_reduced_precision_reduction, m.allow_tf32, c.allow_tf32)
            return x + float(sum(on))


    n = 3000


    def get_inputs():
        return [torch.randn(n)]


    def get_init_inputs():
        return []
    """
)
COPY_SOLUTION = textwrap.dedent(
    """
    import torch
    import torch.nn as nn
    import triton
    import triton.language as tl


    @triton.jit
    def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


    class ModelNew(nn.Module):
        def forward(self, x):
            y = torch.empty_like(x)
            copy_kernel[(triton.cdiv(x.numel(), 4096),)](x, y, x.numel(), BLOCK=4096)
            return y
    """
)


@pytest.fixture(scope="module")
def faked_gpu_checks(tmp_path_factory):
    """Four timed checks on the faked GPU, run side by side: honest, lazy when timed, result cache,
    and an exact solution of a reference that reads the precision shortcuts."""
    tmp = tmp_path_factory.mktemp("fake-gpu")
    (tmp / "sitecustomize.py").write_text(FAKE_CUDA)
    (tmp / "shortcuts.py").write_text(SHORTCUTS_PROBLEM)
    (tmp / "shortcuts_exact.py").write_text(COPY_SOLUTION)
    gelu = PROBLEMS / "gelu_scale.py"
    checks = {
        "honest": (gelu, SOLUTIONS / "gelu_scale.py"),
        "lazy": (gelu, timed_cheat(tmp, "lazy", LAZY, checked=shipped_calls(2))),
        "cache": (gelu, timed_cheat(tmp, "cache", CONTENT_CACHE, checked=shipped_calls(2))),
        "precise": (tmp / "shortcuts.py", tmp / "shortcuts_exact.py"),
        # The static scan would refuse its file access; off, to see the runtime audit refuse it.
        "erase": (gelu, timed_cheat(tmp, "erase", LAZY_THEN_ERASE, checked=shipped_calls(2)), {"static_scan": False}),
        # Scan off, as for "erase", and torch ops allowed (its checked calls read a value with .item()):
        # the runtime audit and the signed digests behind it must hold.
        "rewrite": (gelu, timed_cheat(tmp, "rewrite", LAZY_THEN_REWRITE, checked=shipped_calls(2)), {"static_scan": False, "allow_torch_ops": True}),
    }
    opts = CheckOptions(device="cpu", trials=2, variant_trials=1, timeout_s=120, static_resources=False, compile_baselines=())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", str(tmp))
        mp.setattr("kernelwright.tools.check.verify.timed_on", lambda device, o: o.timing)
        # The cache keys on an input value read with .item(), a host read the checked calls reject
        # (host compute); torch ops are allowed for it, so that the timing phase's own guard is what speaks.
        per_check = {k: dataclasses.replace(opts, allow_torch_ops=k == "cache") for k in checks}
        with ThreadPoolExecutor(max_workers=len(checks)) as pool:
            futures = {k: pool.submit(verify_solution, problem, solution, dataclasses.replace(per_check[k], **(more[0] if more else {})))
                       for k, (problem, solution, *more) in checks.items()}
            yield {k: f.result(timeout=600) for k, f in futures.items()}


def test_faked_gpu_honest_solution_is_timed_in_its_checked_process(faked_gpu_checks):
    r = faked_gpu_checks["honest"]
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.reasons == []
    t = r.timing
    assert t["candidate"]["n"] >= 10 and t["eager"]["before"]["n"] >= 10 and t["eager"]["after"]["n"] >= 10
    assert len(t["checked_calls"]) == t["pool_size"] and max(t["checked_calls"]) < t["candidate"]["n"]
    assert t["compile"] is None and t["compile_max_autotune"] is None
    assert set(t["baselines_skipped"]) == {"compile", "compile_max_autotune"} and "not selected" in t["baselines_skipped"]["compile"]
    assert set(r.speedup) == {"eager"}
    assert {"reference", "candidate", "timing:eager", "timing:candidate", "timing:guards"} <= set(r.phases)
    assert t["host_call_us"] > 0 and t["head_start_us"] > 0  # the forward's host time, hidden by the head start


def test_reference_outputs_are_computed_with_the_precision_shortcuts_off(faked_gpu_checks):
    # Eager is still timed with torch's defaults; only the outputs candidates are judged by are precise.
    r = faked_gpu_checks["precise"]
    assert r.verdict is Verdict.ACCEPTED, r.reasons
    assert r.max_abs_err == 0.0
    assert r.timing["checked_calls"], "the timed calls were re-checked against the reference's outputs"
    assert torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction  # torch's default, untouched here


def test_faked_gpu_lazy_timed_calls_fail_the_recheck(faked_gpu_checks):
    r = faked_gpu_checks["lazy"]
    assert all(t["ok"] for t in r.trials)  # honest while checked
    assert r.verdict is Verdict.WRONG_OUTPUT, r.reasons
    assert "timed call" in r.reasons[0].message and "is wrong" in r.reasons[0].message


def test_faked_gpu_result_cache_is_a_timing_escape(faked_gpu_checks):
    r = faked_gpu_checks["cache"]
    assert all(t["ok"] for t in r.trials)
    assert r.verdict is Verdict.TIMING_ESCAPE, r.reasons
    assert "returned a tensor that an earlier timed call had returned" in r.reasons[0].message


def test_faked_gpu_timed_outputs_erased_after_the_run_are_a_rejection(faked_gpu_checks):
    # Found when the runtime audit did not exist yet: accepted while lazy. Its finaliser (which would
    # erase the timed outputs) ran when the checked variants' models were freed; since red team pass
    # 10 the worker frees no ModelNew while it runs, so it never runs, and the lazy timed output it
    # meant to hide is judged: wrong. Behind that, the audit refuses the finaliser's file access and
    # the parent reads the timed outputs by name
    # (test_missing_timed_outputs_are_a_rejection_not_nothing_to_check).
    r = faked_gpu_checks["erase"]
    assert all(t["ok"] for t in r.trials)
    assert r.verdict is Verdict.WRONG_OUTPUT, r.reasons
    assert r.reasons[0].check == "timed_outputs" and "a timed call's output" in r.reasons[0].message


def test_missing_timed_outputs_are_a_rejection_not_nothing_to_check(tmp_path):
    ref, cand = tmp_path / "r", tmp_path / "c"
    ref.mkdir()
    cand.mkdir()
    for i in range(2):
        save_tensors(ref / f"timed_{i}.pt", {"slot": i, "out": torch.ones(4)})
    digests = {"timed_0.pt": write_output(cand / "timed_0.pt", {"slot": 0, "out": torch.ones(4)})}  # slot 1 and the samples are gone
    why = _recheck(cand, ref, "cpu", "strict", DEFAULT, 2, digests)
    assert why and "missing (timed_1.pt, timed_samples.pt)" in why
    digests["timed_1.pt"] = write_output(cand / "timed_1.pt", {"slot": 1, "out": torch.ones(4)})
    digests["timed_samples.pt"] = write_output(cand / "timed_samples.pt", None)
    assert _recheck(cand, ref, "cpu", "strict", DEFAULT, 2, digests) is None  # the honest twin


def test_faked_gpu_timed_outputs_rewritten_at_exit_are_never_rewritten(faked_gpu_checks):
    # Lazy timed calls, then (in the model's finaliser) the saved outputs and sampled values
    # rewritten with torch's results. The finaliser used to run when the worker returned, racing
    # the parent's re-check (a digest mismatch or the lazy outputs, by timing); it never runs now.
    r = faked_gpu_checks["rewrite"]
    assert all(t["ok"] for t in r.trials)
    assert r.verdict is Verdict.WRONG_OUTPUT, r.reasons
    assert "timed call" in r.reasons[0].message and "is wrong" in r.reasons[0].message
    assert not any("rewritten" in x.message for x in r.reasons), r.reasons


def test_timed_outputs_changed_after_they_were_saved_are_a_static_violation(tmp_path):
    """What stands behind the worker's quiet end: a file whose bytes differ from the signed digest
    (changed by code that ran before the worker died) is not re-checked; the caller makes it a
    static violation."""
    ref, cand = tmp_path / "r", tmp_path / "c"
    ref.mkdir()
    cand.mkdir()
    save_tensors(ref / "timed_0.pt", {"slot": 0, "out": torch.ones(4)})
    digests = {"timed_0.pt": write_output(cand / "timed_0.pt", {"slot": 0, "out": torch.zeros(4)}),
               "timed_samples.pt": write_output(cand / "timed_samples.pt", None)}
    save_tensors(cand / "timed_0.pt", {"slot": 0, "out": torch.ones(4)})  # now right, but not what was saved
    with pytest.raises(RewrittenFile, match="timed_0.pt was rewritten after the checker saved it"):
        _recheck(cand, ref, "cpu", "strict", DEFAULT, 1, digests)
    digests["timed_0.pt"] = write_output(cand / "timed_0.pt", {"slot": 0, "out": torch.ones(4)})
    assert _recheck(cand, ref, "cpu", "strict", DEFAULT, 1, digests) is None  # the honest twin


def test_a_changed_cached_peak_is_not_used(tmp_path):
    """The peaks decide the impossible-speed guard: a cached figure edited after it was measured
    (here 100x the bandwidth, which would hide a too-fast kernel) reads as a miss."""
    entry = seal(PEAKS)
    assert unseal(entry) == PEAKS
    entry["value"] = {**PEAKS, "bandwidth_Bps": PEAKS["bandwidth_Bps"] * 100}
    assert unseal(entry) is None
    home = tmp_path / "home"
    home.mkdir()
    (home / "peaks.json").write_text(json.dumps({f"TestGPU|torch {torch.__version__}": entry}))
    from kernelwright.tools.profile import roofline

    calls = []
    original = roofline.run_child
    roofline.run_child = lambda *a, **k: calls.append(a)  # measuring again would need the GPU
    try:
        assert roofline.device_peaks(home, "cuda:0", "TestGPU", tmp_path / "w") is None
    finally:
        roofline.run_child = original
    assert calls, "the changed entry was used instead of being measured again"

