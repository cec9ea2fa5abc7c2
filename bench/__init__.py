"""`kernelwright bench`: every problem of a KernelBench-format folder through a full run, in
parallel worker processes, resumable; per-problem results and the suite's fast_p summary as JSON,
Markdown and a PNG chart."""
