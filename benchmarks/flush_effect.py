"""How the L2 flush before each timed call changes a memory-bound kernel's CUDA-event time.

`check` writes a 256 MiB buffer before every timed call (as Triton's do_bench does); Nsight
Compute instead invalidates the caches. A write leaves up to an L2's worth of dirty lines that
the timed kernel's own traffic must evict to DRAM; a read leaves clean lines. This script times
the same kernel (y = x * 2 over 4096x4096 fp32, 128 MiB moved) after no flush, a write flush
and a read flush, 200 times each, and prints the medians. GPU only. Measured on an H100
(2026-11-25, docs/benchmarks.md): none 60.1 us, write 50.6 us; the read case crashed in that
build of the script (fixed since, not yet re-run).
"""

from __future__ import annotations

import statistics

import torch


def median_us(prepare, x: torch.Tensor, y: torch.Tensor, reps: int = 200) -> float:
    times = []
    for _ in range(reps):
        prepare()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.mul(x, 2.0, out=y)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000)
    return statistics.median(times)


def main() -> None:
    x = torch.randn(4096, 4096, device="cuda")
    y = torch.empty_like(x)
    buf = torch.empty(256 * 2**20 // 4, device="cuda")
    for name, prepare in (("none", lambda: None), ("write (zero_)", buf.zero_), ("read (sum)", lambda: torch.sum(buf))):
        median_us(prepare, x, y, reps=20)  # warm-up
        print(f"flush {name:14s}: median {median_us(prepare, x, y):8.2f} us  ({torch.cuda.get_device_name()})")


if __name__ == "__main__":
    main()
