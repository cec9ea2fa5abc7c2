"""The bench's progress bar on stderr: redrawn in place on a terminal, one line per event in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from kernelwright.bench.records import BenchResult

BAR_WIDTH = 24


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class ProgressBar:
    def __init__(self, total: int, done: int = 0, accepted: int = 0, stream: TextIO | None = None) -> None:
        self.total, self.done, self.accepted = total, done, accepted
        self.resumed = done  # finished before this process started: not part of the rate
        self.running: dict[str, str] = {}  # problem -> slot
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.began = time.monotonic()

    def line(self) -> str:
        filled = round(BAR_WIDTH * self.done / self.total) if self.total else BAR_WIDTH
        elapsed = time.monotonic() - self.began
        ran = self.done - self.resumed
        eta = f", ~{_clock(elapsed / ran * (self.total - self.done))} left" if ran and self.done < self.total else ""
        running = ", ".join(f"{p}@{s}" for p, s in self.running.items())
        return (f"bench [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total} done, {self.accepted} accepted; "
                f"{_clock(elapsed)}{eta}" + (f"; running {running}" if running else ""))

    def started(self, problem: str, slot: str) -> None:
        self.running[problem] = slot
        self._show()

    def finished(self, problem: str, accepted: bool, what: str) -> None:
        self.running.pop(problem, None)
        self.done += 1
        self.accepted += int(accepted)
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(f"kernelwright: {problem}: {what}\n")
        self._show()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _show(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + self.line()[:200])
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()


def describe_result(result: BenchResult) -> str:
    """One line for the progress log: accepted (speedups), no kernel (why) or not accepted (verdict)."""
    if result.accepted:
        speed = result.speedup or {}
        return "accepted" + (" (" + ", ".join(f"{k} {v:.2f}x" for k, v in speed.items() if v is not None) + ")" if speed else "")
    if result.unsupported:
        return "no kernel: " + result.unsupported[:100]
    return f"not accepted ({result.verdict or result.status})" + (f": {result.error[:100]}" if result.error else "")
