"""The GPU timing protocol, parent side: baselines, candidate, noise floor and the timing guards.

Order on one GPU, each in a clean sandboxed process: reference eager (also saves its output for
every input-pool slot), the torch.compile baselines (cached per problem, device and versions),
the candidate (timed, profiled, last outputs saved), reference eager again. The two eager runs
give the noise floor. Then: timed outputs re-checked against the reference, kernel time from
the profiler against event time (timing escape), median against 0.9 x speed of light.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

from kernelwright.tools.compare import compare_structure, compare_values
from kernelwright.tools.roofline import (
    IMPOSSIBLE_FRACTION,
    described_nbytes,
    device_peaks,
    dtype_class,
    speed_of_light,
)
from kernelwright.tools.sandbox import run_child
from kernelwright.tools.verdicts import CheckResult, Reason, Verdict
from kernelwright.tools.worker.common import load_tensors

BASELINES = {"eager": "reference", "compile": "compile-default", "compile_max_autotune": "compile-max-autotune"}
POOL_BYTES_BUDGET = 2 * 2**30
ESCAPE_SLACK = 1.10  # profiler kernel time may exceed event time by rounding, not by hidden work
MIN_BASELINE_TIMEOUT_S = 900.0  # max-autotune compiles can take minutes


class TimingFailed(Exception):
    pass


def _time_role(role: str, problem_path: Path, solution_path: Path | None, device: str, opts: Any, workdir: Path, pool_seeds: list[int], outputs_dir: Path | None = None) -> dict[str, Any]:
    tag = f"time-{role}-{secrets.token_hex(3)}"
    result_path = workdir / f"{tag}.result.json"
    req = {
        "role": role,
        "problem_path": str(problem_path),
        "solution_path": str(solution_path) if solution_path else None,
        "device": device,
        "precision": opts.precision,
        "mode": opts.mode,
        "shared_dir": str(workdir / "shared"),
        "pool_seeds": pool_seeds,
        "outputs_dir": str(outputs_dir) if outputs_dir else None,
        "result_path": str(result_path),
    }
    request = workdir / f"{tag}.request.json"
    request.write_text(json.dumps(req))
    timeout = opts.timeout_s if role == "candidate" else max(opts.timeout_s, MIN_BASELINE_TIMEOUT_S)
    child = run_child(["kernelwright.tools.worker", "timing", str(request)], workdir, timeout, log_name=tag)
    if not result_path.exists():
        why = "timed out" if child.timed_out else (child.signal_name or (child.stderr.strip().splitlines() or ["no output"])[-1])
        raise TimingFailed(f"timing {role} failed: {why}")
    return json.loads(result_path.read_text())


def _baseline_cache_key(problem: Any, device_facts: dict[str, str], opts: Any) -> str:
    raw = json.dumps([problem.file.sha256, opts.precision, opts.mode, device_facts], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _compiled_baselines(problem: Any, device: str, opts: Any, workdir: Path, facts: dict[str, str], pool_seeds: list[int]) -> dict[str, Any]:
    cache_path = (opts.home / "baselines.json") if opts.home else None
    cache = json.loads(cache_path.read_text()) if cache_path and cache_path.exists() else {}
    key = _baseline_cache_key(problem, facts, opts)
    if key in cache:
        return {**cache[key], "cached": True}
    found: dict[str, Any] = {}
    for name in ("compile", "compile_max_autotune"):
        opts.say(f"timing: baseline {name} (torch.compile; cached afterwards)")
        try:
            found[name] = _time_role(BASELINES[name], problem.path, None, device, opts, workdir, pool_seeds)["stats"]
        except TimingFailed as exc:
            found[name] = {"error": str(exc)}
    if cache_path:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        cache[key] = found
        cache_path.write_text(json.dumps(cache, indent=2))
    return {**found, "cached": False}


def _pool_seeds(input_bytes: int) -> list[int]:
    size = max(2, min(4, POOL_BYTES_BUDGET // max(input_bytes, 1)))
    return [secrets.randbelow(2**31 - 1) for _ in range(size)]


def _recheck(candidate_dir: Path, reference_dir: Path, device: str, mode: str) -> str | None:
    """None if every saved timed output matches the reference for its input slot."""
    refs = {}
    for path in reference_dir.glob("timed_*.pt"):
        saved = load_tensors(path)
        refs[saved["slot"]] = saved["out"]
    for path in sorted(candidate_dir.glob("timed_*.pt")):
        saved = load_tensors(path)
        ref = refs[saved["slot"]]
        out = saved["out"]
        if isinstance(ref, tuple):
            ref = list(ref)
        bad = compare_structure(_describe(out), ref, "cpu")
        comparison = bad or compare_values(out, ref, mode)
        if comparison.verdict is not Verdict.ACCEPTED:
            return f"a timed call's output (input slot {saved['slot']}) is wrong: {comparison.message}"
    return None


def _describe(out: Any) -> dict[str, Any]:
    if isinstance(out, list):
        return {"type": "list", "items": [_describe(o) for o in out]}
    return {"type": "torch.Tensor", "shape": list(out.shape), "dtype": str(out.dtype).removeprefix("torch."), "device": "cpu"}


def time_solution(problem: Any, solution_path: Path, shipped: dict[str, Any], device: str, opts: Any, workdir: Path, result: CheckResult) -> None:
    """Fill `result.timing`, `speedup` and `roofline`; may change the verdict (timing guards)."""
    facts = {k: result.versions.get(k, "") for k in ("gpu", "driver", "torch", "triton", "cuda")}
    input_bytes = described_nbytes(shipped.get("input_spec", []))
    seeds = _pool_seeds(input_bytes)
    ref_out, cand_out = workdir / "timed_ref", workdir / "timed_cand"
    ref_out.mkdir(), cand_out.mkdir()
    try:
        opts.say("timing: reference eager (1 of 2)")
        with result.phase("timing:eager"):
            eager1 = _time_role("reference", problem.path, None, device, opts, workdir, seeds, ref_out)["stats"]
        with result.phase("timing:compile_baselines"):
            # KernelBench's own numbers are against eager; compat mode does not compile.
            baselines = {} if opts.mode == "compat" else _compiled_baselines(problem, device, opts, workdir, facts, seeds)
        opts.say("timing: candidate")
        with result.phase("timing:candidate"):
            cand = _time_role("candidate", problem.path, solution_path, device, opts, workdir, seeds, cand_out)
        opts.say("timing: reference eager (2 of 2)")
        with result.phase("timing:eager"):
            eager2 = _time_role("reference", problem.path, None, device, opts, workdir, seeds)["stats"]
    except TimingFailed as exc:
        result.reasons.append(Reason("timing", str(exc)))
        result.timing = {"error": str(exc)}
        return
    value = "value_ms"
    noise = abs(eager1[value] - eager2[value]) / min(eager1[value], eager2[value])
    cand_stats = cand["stats"]
    speedups_raw: dict[str, float] = {"eager": min(eager1[value], eager2[value]) / cand_stats[value]}
    for name in ("compile", "compile_max_autotune"):
        if value in baselines.get(name, {}):
            speedups_raw[name] = baselines[name][value] / cand_stats[value]
    # Inside the noise floor a speedup is no evidence either way: report it as 1.
    within = {k: abs(v - 1.0) <= noise for k, v in speedups_raw.items()}
    result.speedup = {k: (1.0 if within[k] else v) for k, v in speedups_raw.items()}
    result.timing = {
        "candidate": cand_stats,
        "eager": {"before": eager1, "after": eager2},
        "compile": baselines.get("compile"),
        "compile_max_autotune": baselines.get("compile_max_autotune"),
        "baselines_cached": baselines.get("cached", False),
        "noise_floor": noise,
        "speedup_raw": speedups_raw,
        "within_noise": within,
        "profile": cand.get("profile"),
        "flush_bytes": cand.get("flush_bytes"),
        "pool_size": len(seeds),
    }
    with result.phase("timing:guards"):
        _apply_guards(result, cand, ref_out, cand_out, device, opts, shipped, workdir)
    shutil.rmtree(ref_out, ignore_errors=True)


def _apply_guards(result: CheckResult, cand: dict[str, Any], ref_out: Path, cand_out: Path, device: str, opts: Any, shipped: dict[str, Any], workdir: Path) -> None:
    problems: list[Reason] = []
    wrong = _recheck(cand_out, ref_out, device, opts.mode)
    if wrong:
        problems.append(Reason("timed_outputs", wrong, Verdict.WRONG_OUTPUT))
    prof = cand.get("profile") or {}
    side = sorted(set(prof.get("streams", [])) - set(prof.get("timed_streams", [])))
    if prof.get("timed_streams") and side:
        problems.append(Reason("streams", f"kernels ran on stream(s) {side} besides the timed stream {prof['timed_streams']}: work outside the timer's view", Verdict.TIMING_ESCAPE))
    if prof.get("event_ms") and prof.get("kernel_ms", 0) > prof["event_ms"] * ESCAPE_SLACK + 0.02:
        problems.append(
            Reason("timing_escape", f"kernels ran {prof['kernel_ms']:.3f} ms but the timed window saw {prof['event_ms']:.3f} ms: work escaped the timer", Verdict.TIMING_ESCAPE)
        )
    gpu = result.versions.get("gpu", "")
    peaks = device_peaks(opts.home, device, gpu, workdir) if opts.home else None
    out_dtype = _first_dtype(shipped["cases"][0]["output"])
    if peaks:
        report = speed_of_light(shipped.get("bytes"), shipped.get("flops"), peaks, dtype_class(out_dtype))
        guard = speed_of_light(shipped.get("bytes"), shipped.get("flops"), peaks, dtype_class(out_dtype), generous=True)
        median = result.timing["candidate"]["median_ms"]
        report["candidate_ms"] = median
        report["pct_of_sol"] = 100.0 * report["t_sol_ms"] / median if median else None
        report["peaks"] = {k: peaks[k] for k in ("gpu", "bandwidth_Bps", "flops")}
        result.roofline = report
        if median < IMPOSSIBLE_FRACTION * guard["t_sol_ms"]:
            problems.append(
                Reason(
                    "speed_of_light",
                    f"median {median * 1000:.2f} us is below 0.9 x the speed of light ({guard['t_sol_ms'] * 1000:.2f} us for "
                    f"{shipped.get('bytes')} bytes, {shipped.get('flops')} flops): the work was not all done",
                    Verdict.IMPOSSIBLE_SPEED,
                )
            )
    if problems:
        result.reasons = problems + result.reasons
        result.verdict = problems[0].verdict


def _first_dtype(desc: Any) -> str:
    return _first_dtype(desc[0]) if isinstance(desc, list) else desc.get("dtype", "float32")

