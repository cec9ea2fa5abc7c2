"""Speed of light: the fastest any implementation could run, from bytes, flops and device peaks.

t_SoL = max(min_bytes / bandwidth, flops / peak_flops). Peaks are measured once per device by the
`peaks` worker and cached in the home directory (`peaks.json`, keyed by GPU name and torch
version), since a copy and three 8192^3 products cost a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kernelwright.tools.sandbox import run_child

IMPOSSIBLE_FRACTION = 0.9  # EVAL_PROTOCOL.md: below 0.9 x t_SoL is physically impossible
# A large copy reaches ~87% of the H100's datasheet bandwidth (2.93 of 3.35 TB/s, measured
# 2026-11-25); read-mostly kernels can beat a copy. The guard credits this margin so that an
# honest kernel is never called impossible; the reported % of SoL uses the measured figure.
GUARD_BANDWIDTH_MARGIN = 1.15


def speed_of_light(bytes_moved: int | None, flops: int | None, peaks: dict[str, Any], dtype: str, generous: bool = False) -> dict[str, Any]:
    """SoL times in ms. `generous` (for the guard) uses the fastest matrix rate of any dtype, so a
    candidate that legitimately uses tensor cores on an fp32 problem is never called impossible,
    and the bandwidth margin above."""
    bw = peaks["bandwidth_Bps"] * (GUARD_BANDWIDTH_MARGIN if generous else 1.0)
    rates = peaks["flops"]
    rate = max(rates.values()) if generous else rates.get(dtype, max(rates.values()))
    t_mem = (bytes_moved or 0) / bw * 1000
    t_flops = (flops or 0) / rate * 1000
    return {
        "bytes": bytes_moved,
        "flops": flops,
        "t_memory_ms": t_mem,
        "t_compute_ms": t_flops,
        "t_sol_ms": max(t_mem, t_flops),
        "bound": "memory" if t_mem >= t_flops else "compute",
        "bandwidth_Bps": bw,
        "peak_flops": rate,
    }


ELEMENT_BYTES = {"float64": 8, "int64": 8, "complex64": 8, "float32": 4, "int32": 4, "float16": 2, "bfloat16": 2, "int16": 2, "int8": 1, "uint8": 1, "bool": 1}


def described_nbytes(desc: Any) -> int:
    """Bytes of a tensor described as {"shape", "dtype"} (or a list of such); 0 for non-tensors."""
    if isinstance(desc, list):
        return sum(described_nbytes(d) for d in desc)
    if "shape" not in desc:
        return 0
    n = 1
    for s in desc["shape"]:
        n *= s
    return n * ELEMENT_BYTES.get(desc["dtype"], 4)


def dtype_class(dtype_name: str) -> str:
    return {"bfloat16": "bf16", "float16": "fp16"}.get(dtype_name, "fp32")


def device_peaks(home: Path, device: str, gpu_name: str, workdir: Path, timeout_s: float = 300.0) -> dict[str, Any] | None:
    """Measured peaks of `device` (named `gpu_name`), cached or measured now; None if that failed."""
    import torch

    key = f"{gpu_name}|torch {torch.__version__}"
    cache = home / "peaks.json"
    known: dict[str, Any] = json.loads(cache.read_text()) if cache.exists() else {}
    if key in known:
        return known[key]
    result_path = workdir / "peaks.result.json"
    request = workdir / "peaks.request.json"
    request.write_text(json.dumps({"device": device, "result_path": str(result_path)}))
    run_child(["kernelwright.tools.worker", "peaks", str(request)], workdir, timeout_s, log_name="peaks")
    if not result_path.exists():
        return None
    peaks = json.loads(result_path.read_text())
    home.mkdir(parents=True, exist_ok=True)
    known[key] = peaks
    cache.write_text(json.dumps(known, indent=2))
    return peaks
