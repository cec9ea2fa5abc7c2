"""What the GPU runs before each timed call, outside the CUDA-event window: the L2 flush and the
head start. Used by the timing loop (`timing.timed_calls`) and the timeline profile tier."""

from __future__ import annotations

import torch

# Captured at import, which in the candidate's process is before its code runs.
_Event, _synchronize = torch.cuda.Event, torch.cuda.synchronize


class L2Flush:
    """Evicts L2 before a timed call: a pass over a buffer of max(256 MiB, 4 x L2).

    `read` (the default) sums the buffer; `write` zeroes it (Triton's do_bench, and this project's
    flush until 2026-11-25). Both evict the call's inputs, but a write leaves up to an L2's worth of
    dirty lines, and the timed kernel's own traffic then pays for writing them back to DRAM: a cost
    that belongs to the flush, not to the implementation, and that Nsight Compute's cache control
    (invalidate before each kernel) does not charge. A read leaves clean lines. The write/read
    difference measured on an H200 is in docs/benchmarks.md (`benchmarks/flush_effect.py`).
    """

    def __init__(self, device: torch.device, mode: str = "read", nbytes: int | None = None) -> None:
        if mode not in ("read", "write"):
            raise ValueError(f"L2Flush mode must be read or write, not {mode!r}")
        if nbytes is None:  # `nbytes`: a smaller buffer for tests on the CPU
            l2 = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 50 * 2**20)
            nbytes = max(256 * 2**20, 4 * l2)
        self.mode = mode
        self.buffer = torch.zeros(nbytes // 4, dtype=torch.float32, device=device)
        self.sink = torch.empty((), dtype=torch.float32, device=device)
        self.nbytes = self.buffer.numel() * 4

    def __call__(self) -> None:
        if self.mode == "read":
            torch.sum(self.buffer, 0, out=self.sink)
        else:
            self.buffer.zero_()


class HeadStart:
    """A spin kernel (`torch.cuda._sleep`) queued after the flush, long enough for the host to
    issue the whole call before the GPU reaches the start event.

    Without it, whether the events hold the call's host work (Python, the autotuner's dispatch,
    launches) depends on whether the host outruns the flush. On 2 H200s (2026-11-25) expert
    kernels with a 2-D tile and 3 inputs timed 84-98 us against 31-35 us for the same bytes in
    1-D kernels; with the head start (2026-11-26, same cards) they timed 34-35 us, and a lean
    kernel's time moved by under 0.3 us (docs/benchmarks.md). With it the
    events time what the GPU does for the call, as Nsight Compute and the profiler's kernel times
    do, on any card. Host work cannot hide device work: a call that reads its inputs on the host
    waits for the stream, so past the start event. `compat` mode (KernelBench's numbers) runs
    without it.
    """

    MAX_S = 0.02

    def __init__(self, device: torch.device) -> None:
        self.cycles_per_s = 1.5e9  # calibrated below; the fallback where events time nothing (a fake GPU)
        probe = 200_000
        for _ in range(2):  # the first spin also loads the kernel
            start, end = _Event(enable_timing=True), _Event(enable_timing=True)
            start.record()
            torch.cuda._sleep(probe)
            end.record()
            _synchronize()
            ms = start.elapsed_time(end)
            if ms > 0:
                self.cycles_per_s = probe / (ms / 1000.0)
        self.seconds = 0.0

    def cover(self, host_s: list[float]) -> None:
        """Sized from the warm-up calls' host times: twice the slowest of the last few, plus 20 us."""
        recent = host_s[-5:] or [0.0]
        self.seconds = min(self.MAX_S, 2 * max(recent) + 20e-6)

    def __call__(self) -> None:
        if self.seconds > 0:
            torch.cuda._sleep(int(self.seconds * self.cycles_per_s))
