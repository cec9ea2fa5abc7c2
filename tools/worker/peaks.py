"""Child worker: measure a GPU's ceilings once (copy bandwidth; dense matmul rate per dtype)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import torch

from kernelwright.tools.worker.profile_protocol import PeaksRequest


def _median_ms(fn, reps: int = 20) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def copy_bandwidth(device: torch.device, nbytes: int = 2 * 2**30) -> float:
    """Bytes per second of a large device-to-device copy, counting bytes read plus written."""
    src = torch.randn(nbytes // 4, device=device)
    dst = torch.empty_like(src)
    ms = _median_ms(lambda: dst.copy_(src))
    return 2 * nbytes / (ms / 1000)


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int = 8192) -> float:
    """FLOP/s of an n x n x n product on random data (TF32 off for fp32: the exact rate)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        ms = _median_ms(lambda: a @ b, reps=10)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    return 2 * n**3 / (ms / 1000)


def main(request_text: str) -> int:
    req = PeaksRequest(**json.loads(request_text))
    device = torch.device(req.device)
    torch.cuda.set_device(device)
    props = torch.cuda.get_device_properties(device)
    result = {
        "gpu": props.name,
        "sm_count": props.multi_processor_count,
        "l2_bytes": getattr(props, "L2_cache_size", None),
        "bandwidth_Bps": copy_bandwidth(device),
        "flops": {
            "bf16": matmul_rate(device, torch.bfloat16),
            "fp16": matmul_rate(device, torch.float16),
            "fp32": matmul_rate(device, torch.float32, n=4096),
        },
        "torch": torch.__version__,
    }
    Path(req.result_path).write_text(json.dumps(result))
    return 0
