"""Timing the candidate in the process that just checked it, with the guards still installed.

A separate timing process would cost another start-up (torch, CUDA context, Triton) per check.
What staying in this process must not give away, and how it is kept:
- the timed calls are not under the dispatch mode (its overhead would be timed), so the warm-up
  calls are: aten compute there is `torch_compute`, as in the checked calls;
- the launch counter stays installed (cheap: one dict lookup per launch, hidden behind the L2
  flush): a timed call that launches none of the solution's own kernels is reported;
- thread starts, global numerics state and the RNG are compared across the whole timing phase;
- every timed call's output is read at secret random positions, and the outputs of a few calls
  picked at random are saved whole (positions and picks from the system RNG, not torch's); the
  parent compares them with the reference's outputs for the same inputs, which the reference
  computes only after this process has ended;
- a call that returns a tensor an earlier timed call returned (a result cache) is reported, and
  outputs are poisoned once let go of, so returning uninitialised memory never passes for work;
- the profiler sees every kernel on every stream (side streams, work outside the event window);
- nothing of the candidate's runs between two calls (red team pass 11): after every warm-up and
  timed call, before the checker touches the output or the call's buffers again (the call watch,
  the next refill, the L2 flush), the output and the buffers may carry no instance attributes
  (one named `copy_` on a buffer ran in the refill, one named `reshape` on the output in the
  sampling) and no torch mode may be left active (one left on the stack saw the refill's copy);
  either stops the timing phase at that call. The outputs are dropped only inside a window.
Everything is reported through the signed event log, like the checks before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from kernelwright.tools.check import guards
from kernelwright.tools.worker.call_watch import CallWatch
from kernelwright.tools.worker.candidate_errors import classify_exception
from kernelwright.tools.worker.candidate_inputs import seal_broken, sealed_problem
from kernelwright.tools.worker.candidate_protocol import CandidateRequest, TimeCandidateCommand
from kernelwright.tools.worker.common import DTYPES, EventLog, error_text
from kernelwright.tools.worker.kernel_profile import profile_streams
from kernelwright.tools.worker.output_capture import attributes_set, collected
from kernelwright.tools.worker.output_file import write_output
from kernelwright.tools.worker.timing import input_pool, measure, write_candidate_outputs

SAMPLE_POINTS = 4096  # positions of every timed call's output compared with the reference
_equal = torch.equal  # captured when this module loads: before the candidate's code (see candidate.main)


class CandidateRaised(Exception):
    """An exception out of the candidate's forward during timing (the cause is the candidate's)."""


class LeftBehind(Exception):
    """A timed or warm-up call left something that would run the candidate's code in the checker's
    steps between calls; `kind` is the verdict's kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def inspect_timed_call(out: Any, buffers: list[Any]) -> None:
    """Raise LeftBehind when the call left instance attributes on its output or buffers, or a torch
    mode active (see the module's docstring)."""
    shadowed = attributes_set(out, "the output") or attributes_set(buffers, "the inputs")
    if shadowed:
        raise LeftBehind("static_violation", f"a timed call: {shadowed} (they shadow the tensor's methods for whoever calls them after the "
                                             "call); return plain tensors")
    active = guards.active_modes()
    if active:
        raise LeftBehind("global_state", f"a timed call left {active} active after it returned (they would see the checker's steps between "
                                         "calls)")


def _calling(model: Any):
    def call(*args: Any) -> Any:
        try:
            return model(*args)
        except BaseException as exc:
            raise CandidateRaised() from exc

    return call


def _blame(exc: BaseException) -> tuple[str, BaseException] | None:
    """(verdict kind, exception) when the candidate is to blame: its forward raised, or a CUDA
    error surfaced (asynchronous: it shows at the next synchronisation); None for the checker's
    own failures (the profiler, the disk, the device running out of memory beside the checker's pool
    and copies), which leave the verdict alone and the check without a timing."""
    cause = exc.__cause__ if isinstance(exc, CandidateRaised) else None
    if isinstance(cause or exc, torch.OutOfMemoryError):
        return None  # the timing pool and the checker's copies share the device with the call: not a verdict
    if cause is not None:
        return classify_exception(cause), cause
    if "CUDA error" in str(exc) or type(exc).__name__ == "AcceleratorError":
        return "runtime_error", exc
    return None


def failure_text(exc: BaseException) -> str:
    """The checker's own failure, named by what was raised: the forward's call wraps it (a check
    on 2026-12-07 said only "CandidateRaised" for the device running out of memory)."""
    cause = exc.__cause__ if isinstance(exc, CandidateRaised) else None
    return error_text(cause or exc)


def time_candidate(model: Any, command: TimeCandidateCommand, req: CandidateRequest, launches: guards.LaunchCounter, log: EventLog,
                   release: Callable[[], None] | None = None) -> None:
    """`release`: drops what the checked calls left held; called inside this phase's accountant,
    before the pool is drawn (a finaliser tied to those outputs runs counted)."""
    device = torch.device(req.device)
    torch.cuda.set_device(device)  # events and the flush on the candidate's GPU
    dtype = DTYPES.get(req.precision or "")
    broken = seal_broken()
    if broken:  # the pool is drawn through the sealed names, outside the accountant
        log.write(event="error", stage="timing", kind="global_state", error=broken)
        return
    active = guards.active_modes()
    if active:  # the pool and the refills run through torch outside the accounting
        log.write(event="error", stage="timing", kind="global_state", error=f"{active} active when the timing phase began")
        return
    accountant = guards.OpAccountant(poison=None)
    if release is not None:
        with accountant, collected():
            release()
    problem = sealed_problem("kw_problem", command.problem_path, command.problem_source)
    with torch.inference_mode():
        pool = input_pool(problem, device, dtype, list(command.pool_seeds))
    state0, rng0 = guards.global_state_snapshot(), guards.rng_snapshot()
    threads0, starts0, own0 = guards.live_threads(), guards.ThreadStarts.count, launches.own_total
    watch = CallWatch(keep=len(pool), ring=len(pool), sample=SAMPLE_POINTS, launches=lambda: launches.own_total, poison_released=True)
    forward = _calling(model)
    try:
        with torch.inference_mode():
            measured = measure(forward, pool, device, compat=req.mode == "compat", watch=watch, warmup_guard=accountant,
                               inspect=inspect_timed_call)
            profile = profile_streams(forward, measured.buffers)
            inspect_timed_call(None, measured.buffers)  # the profiled calls too, before the outputs are saved
            state_before_save = guards.global_state_snapshot()  # a hook that would undo itself in the save shows here
            digests = write_candidate_outputs(command.outputs_dir, [(slot, out) for slot, _, out in watch.kept])
            digests["timed_samples.pt"] = write_output(f"{command.outputs_dir}/timed_samples.pt", watch.sampled())
    except LeftBehind as exc:
        log.write(event="error", stage="timing", kind=exc.kind, error=str(exc))
        return
    except BaseException as exc:  # noqa: BLE001 - reported, whoever is to blame
        blamed = _blame(exc)
        if blamed:
            log.write(event="error", stage="timing", kind=blamed[0], error=error_text(blamed[1]))
        else:
            log.write(event="timing_failed", error=failure_text(exc))
        return
    log.write(
        event="timing",
        stats=measured.stats,
        warmup_calls=measured.warmup_calls,
        flush_bytes=measured.flush_bytes,
        host_call_us=measured.host_call_us,
        head_start_us=measured.head_start_us,
        profile=profile,
        saved_outputs=len(digests) - 1,
        saved_digests=digests,  # the parent re-checks these files only if they still hold these bytes
        checked_calls=sorted(index for _, index, _ in watch.kept),
        sampled_calls=len(watch.samples),
        malformed_calls=watch.malformed,
        timed_calls=measured.stats["n"],
        calls_without_own_launch=watch.without_own_launch,
        reused_outputs=watch.reused,
        own_launches=launches.own_total - own0,
        compute_ops=dict(accountant.compute_ops),
        host_ops=dict(accountant.host_ops),
        moved_bytes_per_call=accountant.moved_bytes // max(measured.warmup_calls, 1),
        state_changes=guards.diff_state(state0, state_before_save)
        + [f"while the checker saved the outputs: {change}" for change in guards.diff_state(state_before_save, guards.global_state_snapshot())],
        rng_changed=not _equal(rng0, guards.rng_snapshot()),
        new_threads=max(len(guards.live_threads() - threads0), guards.ThreadStarts.count - starts0),
    )
