"""Stand-ins that let `kernelwright.tools.worker.timing`'s loop run on the CPU in a test: its
CUDA events, L2 flush and head start (the loop's own steps stay real)."""

from __future__ import annotations


class NoFlush:
    nbytes, mode = 0, "none"

    def __call__(self) -> None:
        pass


class NoHeadStart:
    seconds = 0.0

    def cover(self, host_s: list[float]) -> None:
        pass

    def __call__(self) -> None:
        pass


def patch_loop(monkeypatch, event: type) -> None:
    """`timing.measure` and `timed_calls` on the CPU, with `event` as the CUDA event class."""
    from kernelwright.tools.worker import timing

    monkeypatch.setattr(timing, "_Event", event)
    monkeypatch.setattr(timing, "_synchronize", lambda: None)
    monkeypatch.setattr(timing, "L2Flush", lambda device: NoFlush())
    monkeypatch.setattr(timing, "HeadStart", lambda device: NoHeadStart())
