"""What a timed call may leave behind for the checker's steps between two calls (red team pass 11).

Between two timed calls the checker refills the call's buffers with the next input, flushes L2
and reads the output at secret positions, all outside the CUDA-event window and outside any op
accounting. Four cheats ran their torch compute there (the next call's answer, for it to return
after a token launch): an instance attribute `copy_` on an input buffer (the refill called it), one
named `reshape` on the output (the sampling called it), a torch function mode left on the stack
(it saw the refill's copy), and a tuple subclass whose `__iter__` computed while the watch walked
it. The loop itself is exercised here on the CPU (`measure`, its events replaced), the first cheat
end to end through a faked-GPU check.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from cpu_timing_loop import patch_loop
from timing_cheats import REFILL_HOOK, shipped_calls, timed_cheat
from torch.overrides import TorchFunctionMode

from kernelwright.tools.check.timing import _describe
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.worker import timing
from kernelwright.tools.worker.call_watch import CallWatch
from kernelwright.tools.worker.candidate_timing import LeftBehind, inspect_timed_call

from paths import PROBLEMS


class _Event:
    def __init__(self, enable_timing: bool = False) -> None:
        pass

    def record(self) -> None:
        pass

    def elapsed_time(self, other: object) -> float:
        return 1.0


@pytest.fixture
def cpu_loop(monkeypatch):
    """`timing.measure` on the CPU: the events, the flush and the head start replaced."""
    patch_loop(monkeypatch, _Event)

    def run(forward) -> timing.Measured:
        watch = CallWatch(keep=2, ring=2, sample=16, poison_released=True)
        return timing.measure(forward, [[torch.zeros(64)], [torch.ones(64)]], torch.device("cpu"), compat=False, watch=watch,
                              inspect=inspect_timed_call)

    return run


class _Counting(TorchFunctionMode):
    """A pass-through mode that counts what it sees outside the forward (the checker's steps)."""

    def __init__(self) -> None:
        super().__init__()
        self.outside = 0
        self.inside = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.outside += not self.inside
        return func(*args, **(kwargs or {}))


def test_an_attribute_on_an_input_buffer_stops_timing_before_the_refill_calls_it(cpu_loop):
    ran = []

    def forward(x):
        x.copy_ = lambda src: ran.append("the refill ran the candidate's copy_")
        return x + 1

    with pytest.raises(LeftBehind) as caught:
        cpu_loop(forward)
    assert caught.value.kind == "static_violation" and "copy_" in str(caught.value)
    assert ran == []


def test_an_attribute_on_the_output_stops_timing_before_the_sampling_calls_it(cpu_loop):
    ran = []

    def forward(x):
        y = x + 1
        y.reshape = lambda *shape: ran.append("the sampling ran the candidate's reshape")
        return y

    with pytest.raises(LeftBehind) as caught:
        cpu_loop(forward)
    assert caught.value.kind == "static_violation" and "reshape" in str(caught.value)
    assert ran == []


def test_a_mode_left_active_stops_timing_at_that_call(cpu_loop):
    mode, stack = _Counting(), contextlib.ExitStack()

    def forward(x):
        mode.inside = True
        y = x + 1
        mode.inside = False
        if not stack._exit_callbacks:
            stack.enter_context(mode)  # entered, never left: it would see the next refill
        return y

    try:
        with pytest.raises(LeftBehind) as caught:
            cpu_loop(forward)
    finally:
        stack.close()
    assert caught.value.kind == "global_state" and "torch function mode" in str(caught.value)
    assert mode.outside == 0  # stopped before any step of the checker's went through it


def test_a_tuple_subclass_output_is_never_walked_and_never_passes_the_recheck(cpu_loop):
    walked = []

    class Sneaky(tuple):
        def __iter__(self):
            walked.append("the watch ran the candidate's __iter__")
            return super().__iter__()

    measured = cpu_loop(lambda x: Sneaky((x + 1,)))
    assert walked == []
    assert measured.stats["n"] >= timing.TIMED_MIN_CALLS
    # What the worker saves for such an output (None) reads as another type than the reference's.
    assert "not a plain tensor" in _describe(None).type


def test_honest_forwards_with_their_own_mode_or_a_cached_buffer_are_timed(cpu_loop):
    mode = _Counting()

    def with_mode(x):
        mode.inside = True
        with mode:  # entered and left inside the call: nothing of it outlives the call
            y = x * 2
        mode.inside = False
        return y

    assert cpu_loop(with_mode).stats["n"] >= timing.TIMED_MIN_CALLS
    cache: dict[int, torch.Tensor] = {}

    def keyed_on_buffer(x):  # a grid cached on the buffer's identity: state of the module, not of the tensor
        scale = cache.setdefault(id(x), torch.full_like(x, 3.0))
        return x * scale

    assert cpu_loop(keyed_on_buffer).stats["n"] >= timing.TIMED_MIN_CALLS


def test_faked_gpu_refill_hook_is_refused_end_to_end(tmp_path, monkeypatch):
    from test_timing_guards import FAKE_CUDA

    (tmp_path / "sitecustomize.py").write_text(FAKE_CUDA)
    solution = timed_cheat(tmp_path, "refill_hook", REFILL_HOOK, checked=shipped_calls(2))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr("kernelwright.tools.check.verify.timed_on", lambda device, o: o.timing)
    opts = CheckOptions(device="cpu", trials=2, variant_trials=1, timeout_s=120, static_resources=False, compile_baselines=())
    r = verify_solution(PROBLEMS / "gelu_scale.py", solution, opts)
    assert all(t["ok"] for t in r.trials)  # honest while checked
    assert r.verdict is Verdict.STATIC_VIOLATION, r.reasons
    assert "while timed" in r.reasons[0].message and "copy_" in r.reasons[0].message


def test_running_out_of_device_memory_while_timed_is_the_checkers_not_a_verdict():
    # At KernelBench's sizes (19_ReLU, H100, 2026-12-07) the timed call's own allocation ran out of
    # memory beside the checker's pool and copies, and the check said runtime_error: the timing is
    # what failed, not the solution. Other failures of the forward stay the candidate's.
    from kernelwright.tools.worker.candidate_timing import CandidateRaised, _blame, failure_text

    def raised(cause: BaseException) -> BaseException:
        try:
            raise CandidateRaised("the forward raised") from cause
        except CandidateRaised as exc:
            return exc

    assert _blame(raised(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 6.00 GiB"))) is None
    assert "CUDA out of memory. Tried to allocate 6.00 GiB" in failure_text(raised(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 6.00 GiB")))
    assert _blame(torch.OutOfMemoryError("CUDA out of memory")) is None
    kind, cause = _blame(raised(ValueError("bad shape")))
    assert kind == "runtime_error" and isinstance(cause, ValueError)
    assert _blame(RuntimeError("CUDA error: an illegal memory access was encountered"))[0] == "runtime_error"
