"""Where the timing loop lets go of the candidate's outputs: only inside a call's CUDA-event window.

A finaliser tied to an output (`weakref.finalize`, an object's `__del__`) is the candidate's code;
run between two windows it could compute the next call's answer untimed, for the next call to
return after a token launch. Here the loop runs on the CPU with its events replaced by markers in
one log, and every finaliser records where in that log it ran."""

from __future__ import annotations

import weakref

import torch
from cpu_timing_loop import patch_loop

from kernelwright.tools.worker import timing
from kernelwright.tools.worker.call_watch import CallWatch


class _Marker:
    """A CUDA event: the loop records start, end, start, end...; an odd count is inside a window."""

    records = 0

    def __init__(self, enable_timing: bool = False) -> None:
        pass

    def record(self) -> None:
        _Marker.records += 1

    def elapsed_time(self, other: _Marker) -> float:
        return 1.0


class _Guard:
    """Entered around each call, as the candidate's op accounting is in the warm-up."""

    entered = False

    def __enter__(self) -> None:
        _Guard.entered = True

    def __exit__(self, *exc: object) -> None:
        _Guard.entered = False


def _finalised_outside(monkeypatch, watch: CallWatch | None) -> tuple[int, int]:
    """Run `measure` (warm-up and timed calls) on a model whose every output has a finaliser;
    (finalisers run outside a window or its guard, finalisers run in all)."""
    _Marker.records = 0
    outside: list[bool] = []

    def model(x: torch.Tensor) -> torch.Tensor:
        out = x + 1
        weakref.finalize(out, lambda: outside.append(not (_Marker.records % 2 == 1 and _Guard.entered)))
        return out

    patch_loop(monkeypatch, _Marker)
    real_timed_calls = timing.timed_calls

    def guarded(*args, **kwargs):  # the timed calls have no guard of their own: the window is what counts there
        return real_timed_calls(*args, **{**kwargs, "guard": _Guard()})

    monkeypatch.setattr(timing, "timed_calls", guarded)
    pool = [[torch.zeros(64)], [torch.ones(64)]]
    measured = timing.measure(model, pool, torch.device("cpu"), compat=False, watch=watch)
    assert measured.stats["n"] >= timing.TIMED_MIN_CALLS
    return sum(outside), len(outside)  # `measured.held`, the last output, is the caller's to drop


def test_no_output_is_dropped_between_two_timed_windows(monkeypatch):
    watch = CallWatch(keep=2, ring=2, sample=16, poison_released=True)
    outside, ran = _finalised_outside(monkeypatch, watch)
    assert ran > 10  # outputs were let go of, by the ring and the reservoir
    assert outside == 0


def test_no_warm_up_or_timed_output_is_dropped_outside_a_window_without_a_watch(monkeypatch):
    outside, ran = _finalised_outside(monkeypatch, None)
    assert ran > 10 and outside == 0


def test_the_watch_keeps_what_it_lets_go_of_until_let_go():
    watch = CallWatch(keep=1, ring=1)
    ran: list[int] = []
    for i in range(6):
        out = torch.full((4,), float(i))
        weakref.finalize(out, ran.append, i)
        before = len(ran)
        watch.after(i, 0, out)
        del out
        assert len(ran) == before  # nothing dropped where the watch lets go
        watch.let_go()
    assert ran  # but dropped when told
