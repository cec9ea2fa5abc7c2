"""The GPU timing protocol, parent side: baselines, candidate, noise floor and the timing guards.

Order on one GPU (see `check_children`): reference eager "before" (in the reference process),
the candidate (in the process that just checked it, guards still installed; it ends right
after), the selected torch.compile baselines (once per problem, device and versions: cached in
HOME), reference eager "after" (reference process again, which then also saves its output for
every timing input). The two eager runs give the noise floor. Then: the candidate's randomly
picked timed outputs re-checked against the reference, its timing-phase guards, kernel time from
the profiler against event time (timing escape), median against 0.9 x speed of light.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from kernelwright.tools.check.audit import AUDIT_EXIT
from kernelwright.tools.check.baselines import (
    COMPILE_BASELINES,
    compiled_baselines,
    selected_compile_baselines,
)
from kernelwright.tools.check.children import CandidateChild, CheckFolder, ReferenceChild, TimingFailed
from kernelwright.tools.check.compare import compare_structure, compare_values
from kernelwright.tools.check.tolerance import Tolerances
from kernelwright.tools.check.verdicts import CheckResult, Reason, Verdict
from kernelwright.tools.check.witness import describe, judge_kernels
from kernelwright.tools.problem import CheckerFailure
from kernelwright.tools.profile.roofline import (
    IMPOSSIBLE_FRACTION,
    described_nbytes,
    device_peaks,
    dtype_class,
    speed_of_light,
)
from kernelwright.tools.worker.common import RewrittenFile, load_tensors
from kernelwright.tools.worker.events import (
    CandidateEvent,
    ErrorEvent,
    OutputDescription,
    RefusedEvent,
    StreamProfile,
    TimingEvent,
    TimingFailedEvent,
)
from kernelwright.tools.worker.output_file import MalformedOutput, read_output
from kernelwright.tools.worker.reference_protocol import OutputSpec, VariantReport, spec_json

if TYPE_CHECKING:
    from kernelwright.tools.worker.call_watch import TimedSamples

POOL_BYTES_BUDGET = 2 * 2**30
ESCAPE_SLACK = 1.10  # profiler kernel time may exceed event time by rounding, not by hidden work
# Of the card's memory, what the timing phase's copies may take (the rest: CUDA contexts, the
# allocators' slack, the L2 flush buffer, whatever else holds the card).
TIMING_DEVICE_SHARE = 0.85


def _pool_seeds(input_bytes: int, traffic_bytes: int = 0, device_bytes: int = 0) -> list[int]:
    """One seed per input set of the timing pool: 2 to 4 sets (consecutive calls see other
    inputs, so a call that returned what an earlier one left behind is wrong at the re-check),
    fewer where the card cannot hold them. With P sets, a trial's traffic T (its inputs and output)
    is on the card about 2P + 3 times while the candidate is timed: the reference worker's pool, call
    buffers and outputs (P + 1), the candidate's pool, call buffers, kept outputs, held output and the
    call's new one (P + 2). At KernelBench's 19_ReLU (T = 12.9 GB) two sets need 90 GB: an H100 (80
    GB) ran out of memory there on 2026-12-07; one set needs 64 GB. With one set every call sees the
    same inputs: a call that returns an earlier call's answer is then right by value, and only the
    speed-of-light and own-launch guards stand against it (the result's `pool_size` says 1)."""
    size = max(2, min(4, POOL_BYTES_BUDGET // max(input_bytes, 1)))
    while size > 1 and device_bytes and (2 * size + 3) * traffic_bytes > TIMING_DEVICE_SHARE * device_bytes:
        size -= 1
    return [secrets.randbelow(2**31 - 1) for _ in range(size)]


def _recheck(candidate_dir: Path, reference_dir: Path, device: str, mode: str, tolerances: Tolerances, pool_size: int,
             digests: dict[str, str]) -> str | None:
    """None if the timed outputs match the reference for their input slots: the outputs saved whole
    (one call per pool slot, at random), then every call's values at the sampled positions.

    The files are read by the names expected, never by glob: the candidate's process could delete
    its own outputs after they were saved (a finaliser at exit), and "nothing to re-check" must not
    read as "nothing wrong". Each is read only if it holds the bytes whose digest (BLAKE3) the worker signed
    (`digests`): the same process could rewrite them with right answers instead (RewrittenFile,
    raised to the caller)."""
    refs = {}
    for i in range(pool_size):
        path = reference_dir / f"timed_{i}.pt"
        if not path.is_file():
            raise CheckerFailure(f"the reference's timed output {path.name} is missing (this is not a verdict)")
        saved = load_tensors(path)
        refs[saved["slot"]] = list(saved["out"]) if isinstance(saved["out"], tuple) else saved["out"]
    expected = [candidate_dir / f"timed_{i}.pt" for i in range(pool_size)] + [candidate_dir / "timed_samples.pt"]
    missing = [p.name for p in expected if not p.is_file()]
    if missing:
        return (f"the timed calls' saved outputs are missing ({', '.join(missing)}): the candidate's process removed "
                "or never let the checker write them, so its timed calls cannot be re-checked")
    for path in expected[:-1]:
        saved = read_output(path, digests.get(path.name, ""))
        if not isinstance(saved, dict) or saved.keys() != {"slot", "out"} or saved["slot"] not in refs:
            raise MalformedOutput(f"{path.name} is not the (input slot, output) record the worker writes")
        ref, out = refs[saved["slot"]], saved["out"]
        bad = compare_structure(_describe(out), ref, "cpu")
        comparison = bad or compare_values(out, ref, mode, tolerances)
        if comparison.verdict is not Verdict.ACCEPTED:
            return (f"a timed call's output (input slot {saved['slot']}) is wrong: {comparison.message} "
                    "(each call must compute and return its own output; a later call must not overwrite it)")
    samples = read_output(expected[-1], digests.get(expected[-1].name, ""))
    if samples is not None and (not isinstance(samples, dict) or samples.keys() != {"positions", "calls", "values"}):
        raise MalformedOutput("timed_samples.pt is not the samples record the worker writes")
    return _recheck_samples(samples, refs, mode, tolerances)


def _recheck_samples(samples: TimedSamples | None, refs: dict[int, Any], mode: str, tolerances: Tolerances) -> str | None:
    """Every timed call's values at the sampled positions against the reference's values there.
    The reference's largest finite magnitude is appended to both sides, so the tolerance
    (atol_eff = min(atol, kappa * max|ref|)) is exactly the one of the whole output."""
    if not samples:
        return None
    positions, calls, values = samples["positions"], samples["calls"], samples["values"]
    picked: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    for slot in {slot for _, slot in calls}:
        ref = refs[slot]
        tensors = [ref] if isinstance(ref, torch.Tensor) else list(ref)
        if len(tensors) != len(positions) or any(int(p.max()) >= t.numel() for p, t in zip(positions, tensors) if p.numel()):
            return f"the timed calls returned {len(positions)} tensor(s) of other sizes than the reference's: {[list(t.shape) for t in tensors]}"
        picked[slot] = []
        for p, t in zip(positions, tensors):
            flat = t.reshape(-1)
            anchor = flat[:0]  # exact comparison for integers and booleans: no tolerance to preserve
            if flat.is_floating_point() and flat.numel():
                magnitude = flat.abs().to(torch.float64).nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
                anchor = flat[int(magnitude.argmax())].reshape(1)
            picked[slot].append((flat[p], anchor))
    for row, (index, slot) in enumerate(calls):
        for k, (ref_values, anchor) in enumerate(picked[slot]):
            out = values[k][row]
            if out.dtype != ref_values.dtype:
                return f"timed call #{index} returned dtype {out.dtype}, the reference {ref_values.dtype}"
            comparison = compare_values(torch.cat([out, anchor]), torch.cat([ref_values, anchor]), mode, tolerances)
            if comparison.verdict is not Verdict.ACCEPTED:
                return (f"timed call #{index} (input slot {slot}) is wrong at {len(ref_values)} sampled positions of output {k}: "
                        f"{comparison.message}")
    return None


def _describe(out: Any) -> OutputDescription:
    """A saved timed output as the worker wrote it: plain lists and tensors, or None where the call
    returned something else (`output_capture.plain_cpu`), which then differs from the reference."""
    if isinstance(out, list):
        return OutputDescription(type="list", items=[_describe(o) for o in out])
    if not isinstance(out, torch.Tensor):
        return OutputDescription(type=f"{type(out).__name__} (not a plain tensor, tuple or list)")
    return OutputDescription(type="torch.Tensor", shape=list(out.shape), dtype=str(out.dtype).removeprefix("torch."), device="cpu")


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else text.strip()


def _timing_failure(child: Any, events: list[CandidateEvent], timeout_s: float) -> tuple[Reason | None, str | None]:
    """(the candidate's failure while timed, as a rejection) or (None, the checker's own failure)."""
    for ev in events:
        if isinstance(ev, RefusedEvent):
            return Reason("audit", f"while timed: {ev.message}", Verdict.STATIC_VIOLATION), None
        if isinstance(ev, ErrorEvent):
            return Reason("timing", f"while timed: {_first_line(ev.error)}", Verdict(ev.kind)), None
        if isinstance(ev, TimingFailedEvent):
            return None, f"timing the candidate failed: {_first_line(ev.error)}"
    if child.returncode == AUDIT_EXIT:
        return Reason("audit", "the checker's runtime audit stopped the candidate while timed: it did something the checker forbids", Verdict.STATIC_VIOLATION), None
    if child.timed_out:
        return Reason("sandbox", f"the candidate did not finish its timed calls within {timeout_s:g}s; it was stopped", Verdict.TIMEOUT), None
    if child.signal_name:
        return Reason("sandbox", f"the candidate process died of {child.signal_name} while timed (e.g. an illegal memory access)", Verdict.CRASH), None
    tail = _first_line(child.stderr) if child.stderr.strip() else f"exit code {child.returncode}"
    return Reason("sandbox", f"the candidate process ended while timed without finishing: {tail}", Verdict.CRASH), None


def time_solution(problem: Any, shipped: VariantReport, device: str, opts: Any, folder: CheckFolder, result: CheckResult,
                  reference: ReferenceChild, candidate: CandidateChild, own_kernels: frozenset[str] | None = None) -> None:
    """Fill `result.timing`, `speedup` and `roofline`; may change the verdict (timing guards)."""
    facts = {k: result.versions.get(k, "") for k in ("gpu", "driver", "torch", "triton", "cuda")}
    input_bytes = described_nbytes([spec_json(spec) for spec in shipped.input_spec])
    seeds = _pool_seeds(input_bytes, max(shipped.bytes or 0, input_bytes), int(result.versions.get("gpu_memory") or 0))
    ref_out, cand_out = folder.timed_ref, folder.timed_cand
    # KernelBench's own numbers are against eager; compat mode does not compile.
    names = () if opts.mode == "compat" else selected_compile_baselines(opts)
    skipped = {
        n: ("compat mode times eager only (KernelBench)" if opts.mode == "compat" else "not selected (check option compile_baselines / --baselines)")
        for n in COMPILE_BASELINES if n not in names
    }
    try:
        opts.say("timing: reference eager (1 of 2)")
        with result.phase("timing:eager"):
            eager1 = reference.time(seeds).stats
        opts.say("timing: candidate (in its checked process)")
        with result.phase("timing:candidate"):
            child, events, tampered = candidate.time(seeds, problem, cand_out)
        if tampered:
            result.verdict, result.reasons = Verdict.STATIC_VIOLATION, [Reason("event_log", tampered, Verdict.STATIC_VIOLATION)]
            return
        cand = next((ev for ev in events if isinstance(ev, TimingEvent)), None)
        if cand is None:
            rejection, failed = _timing_failure(child, events, opts.timeout_s)
            if rejection:
                result.verdict, result.reasons = rejection.verdict, [rejection, *result.reasons]
                result.timing = {"error": rejection.message}
                return
            raise TimingFailed(failed)
        with result.phase("timing:compile_baselines"):
            baselines, cached = compiled_baselines(problem, device, opts, folder.subfolder("baselines"), facts, seeds, names) if names else ({}, False)
        opts.say("timing: reference eager (2 of 2)")
        with result.phase("timing:eager"):
            eager2 = reference.time(seeds, outputs_dir=ref_out).stats
    except TimingFailed as exc:
        result.reasons.append(Reason("timing", str(exc)))
        result.timing = {"error": str(exc)}
        return
    value = "value_ms"
    noise = abs(eager1.value_ms - eager2.value_ms) / min(eager1.value_ms, eager2.value_ms)
    cand_stats = cand.stats
    speedups_raw: dict[str, float] = {"eager": min(eager1.value_ms, eager2.value_ms) / cand_stats.value_ms}
    for name in names:
        if value in baselines.get(name, {}):
            speedups_raw[name] = baselines[name][value] / cand_stats.value_ms
    # Inside the noise floor a speedup is no evidence either way: report it as 1.
    within = {k: abs(v - 1.0) <= noise for k, v in speedups_raw.items()}
    result.speedup = {k: (1.0 if within[k] else v) for k, v in speedups_raw.items()}
    result.timing = {
        "candidate": cand_stats.model_dump(),
        "eager": {"before": eager1.model_dump(), "after": eager2.model_dump()},
        **{n: baselines.get(n) for n in COMPILE_BASELINES},
        "baselines_skipped": skipped,
        "baselines_cached": cached,
        "noise_floor": noise,
        "speedup_raw": speedups_raw,
        "within_noise": within,
        "profile": cand.profile.model_dump(),
        "flush_bytes": cand.flush_bytes,
        "host_call_us": cand.host_call_us,  # the forward's own host time: hidden by the head start
        "head_start_us": cand.head_start_us,
        "pool_size": len(seeds),
        "warmup_calls": cand.warmup_calls,
        "checked_calls": cand.checked_calls,
    }
    with result.phase("timing:guards"):
        _apply_guards(result, cand, ref_out, cand_out, device, opts, shipped, folder.subfolder("peaks"), own_kernels)
    shutil.rmtree(ref_out, ignore_errors=True)


def _phase_guards(cand: TimingEvent, opts: Any) -> list[Reason]:
    """The runtime guards of the timing phase (the same rules as the checked calls)."""
    problems: list[Reason] = []
    if cand.new_threads:
        problems.append(Reason("threads", f"the timed calls started {cand.new_threads} thread(s): work hidden from the timer", Verdict.STATIC_VIOLATION))
    for change in cand.state_changes:
        problems.append(Reason("global_state", f"the timed calls changed {change}", Verdict.GLOBAL_STATE))
    if cand.rng_changed:
        problems.append(Reason("global_state", "the timed calls changed the global RNG state", Verdict.GLOBAL_STATE))
    if cand.calls_without_own_launch:
        problems.append(Reason("launches", f"{_calls(cand.calls_without_own_launch, cand)} launched none of the solution's own kernels "
                               "(the checked calls did)", Verdict.NO_CUSTOM_KERNEL))
    if cand.compute_ops and not opts.allow_torch_ops:
        ops = ", ".join(f"aten.{k} x{v}" for k, v in sorted(cand.compute_ops.items()))
        problems.append(Reason("torch_ops", f"the warm-up calls computed with torch ({ops}); do the work in your kernels or pass --allow-torch-ops", Verdict.TORCH_COMPUTE))
    if cand.host_ops and not opts.allow_torch_ops:
        ops = ", ".join(f"{k} x{v}" for k, v in sorted(cand.host_ops.items()))
        problems.append(Reason("host_compute", f"the warm-up calls computed on the host ({ops}); do the work in your kernels or pass --allow-torch-ops", Verdict.TORCH_COMPUTE))
    return problems


def _calls(indices: list[int], cand: TimingEvent) -> str:
    shown = ", ".join(str(i) for i in indices[:5]) + (", ..." if len(indices) > 5 else "")
    return f"{len(indices)} of {cand.timed_calls} timed calls (#{shown})"


def _witness(prof: StreamProfile, own_kernels: frozenset[str] | None, opts: Any) -> Reason | None:
    """The profiled timed calls' kernels: only the solution's and data movement (witness.py)."""
    if own_kernels is None or opts.allow_torch_ops:
        return None
    testimony = judge_kernels(prof.kernel_names, own_kernels)
    if testimony.clean:
        return None
    return Reason("witness", f"while timed, the GPU profiler saw kernels that are neither the solution's nor data movement: "
                  f"{describe(testimony.foreign)}; torch computed for the forward (do the work in your kernels)", Verdict.TORCH_COMPUTE)


def _apply_guards(result: CheckResult, cand: TimingEvent, ref_out: Path, cand_out: Path, device: str, opts: Any, shipped: VariantReport, workdir: Path,
                  own_kernels: frozenset[str] | None = None) -> None:
    problems = _phase_guards(cand, opts)
    witnessed = _witness(cand.profile, own_kernels, opts)
    if witnessed:
        problems.append(witnessed)
    try:
        wrong = _recheck(cand_out, ref_out, device, opts.mode, opts.tolerances, (result.timing or {})["pool_size"], cand.saved_digests)
    except RewrittenFile as exc:
        problems.append(Reason("timed_outputs", f"{exc}: code in the candidate's process changed its timed outputs after they were saved",
                               Verdict.STATIC_VIOLATION))
        wrong = None
    if wrong:
        problems.append(Reason("timed_outputs", wrong, Verdict.WRONG_OUTPUT))
    if cand.malformed_calls:
        problems.append(Reason("timed_outputs", f"{_calls(cand.malformed_calls, cand)} returned another shape, dtype, type or structure "
                               "than the first timed call (exactly torch.Tensor, as when checked)", Verdict.WRONG_OUTPUT))
    if cand.reused_outputs:
        problems.append(Reason("timed_outputs", f"{_calls(cand.reused_outputs, cand)} returned a tensor that an earlier timed call had "
                               "returned: a result cache does its work outside the timed call", Verdict.TIMING_ESCAPE))
    prof = cand.profile
    side = sorted(set(prof.streams) - set(prof.timed_streams))
    if prof.timed_streams and side:
        problems.append(Reason("streams", f"kernels ran on stream(s) {side} besides the timed stream {prof.timed_streams}: work outside the timer's view", Verdict.TIMING_ESCAPE))
    if prof.event_ms and prof.kernel_ms > prof.event_ms * ESCAPE_SLACK + 0.02:
        problems.append(
            Reason("timing_escape", f"kernels ran {prof.kernel_ms:.3f} ms but the timed window saw {prof.event_ms:.3f} ms: work escaped the timer", Verdict.TIMING_ESCAPE)
        )
    gpu = result.versions.get("gpu", "")
    peaks = device_peaks(opts.home, device, gpu, workdir) if opts.home else None
    out_dtype = _first_dtype(shipped.cases[0].output)
    if peaks:
        light = speed_of_light(shipped.bytes, shipped.flops, peaks, dtype_class(out_dtype))
        # Bytes torch copied for the forward (allowed layout ops: .contiguous(), cat, pad) are read
        # and written within the timed call too: the floor counts them.
        copied = 2 * cand.moved_bytes_per_call
        floor_bytes = (shipped.bytes or 0) + copied if shipped.bytes is not None or copied else None
        guard = speed_of_light(floor_bytes, shipped.flops, peaks, dtype_class(out_dtype), generous=True)
        median = (result.timing or {})["candidate"]["median_ms"]
        result.roofline = {
            **light,
            "candidate_ms": median,
            "pct_of_sol": 100.0 * light["t_sol_ms"] / median if median else None,
            "peaks": {"gpu": peaks["gpu"], "bandwidth_Bps": peaks["bandwidth_Bps"], "flops": peaks["flops"]},
        }
        if median < IMPOSSIBLE_FRACTION * guard["t_sol_ms"]:
            problems.append(
                Reason(
                    "speed_of_light",
                    f"median {median * 1000:.2f} us is below 0.9 x the speed of light ({guard['t_sol_ms'] * 1000:.2f} us for "
                    f"{floor_bytes} bytes ({copied} of them torch copies), {shipped.flops} flops): the work was not all done",
                    Verdict.IMPOSSIBLE_SPEED,
                )
            )
    if problems:
        result.reasons = problems + result.reasons
        result.verdict = problems[0].verdict


def _first_dtype(desc: OutputSpec) -> str:
    if isinstance(desc, list):
        return _first_dtype(desc[0]) if desc else "float32"
    return desc.dtype or "float32"
