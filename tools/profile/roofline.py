"""Speed of light: the fastest any implementation could run, from bytes, flops and device peaks.

t_SoL = max(min_bytes / bandwidth, flops / peak_flops). Peaks are measured once per device by the
`peaks` worker and cached in the home directory (`peaks.json`, keyed by GPU name and torch
version), since a copy and three 8192^3 products cost a few seconds. Where nothing was measured
(no GPU here, or the measurement failed) the datasheet figures of `KNOWN_CARDS` stand in.
The problem's minimum bytes and flops come from its reference (`problem_cost`, in a child).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from kernelwright.tools.profile.answers import FLOPS, read_answer
from kernelwright.tools.profile.peaks import DatasheetCard, DevicePeaks
from kernelwright.tools.profile.sol import ProblemCost, RooflineReport, SpeedOfLight
from kernelwright.tools.sandbox.child import run_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.sealed import read_cache, seal, unseal
from kernelwright.tools.worker.profile_protocol import FlopsRequest, PeaksRequest

IMPOSSIBLE_FRACTION = 0.9  # the evaluation protocol: below 0.9 x t_SoL is physically impossible
# A large copy reaches ~87% of the H100's datasheet bandwidth (2.93 of 3.35 TB/s, measured
# 2026-11-25); read-mostly kernels can beat a copy. The guard credits this margin so that an
# honest kernel is never called impossible; the reported % of SoL uses the measured figure.
GUARD_BANDWIDTH_MARGIN = 1.15


# An fp32 problem need not run on the CUDA cores: an error-compensated split (3xTF32: a*b ~ ah*bh
# + ah*bl + al*bh) meets the fp32 tolerance on tensor cores, at a third of the TF32 rate. On an
# H100 that is ~2.5x the CUDA-core rate; the expert's fp32 matmul uses it. Measured 2026-11-25:
# with the CUDA-core rate as the ceiling, an H100 linear_relu kernel ran at 161% of "SoL".
FP32_SPLIT_PASSES = 3


def fp32_rate(rates: dict[str, float]) -> float:
    """The fastest way to meet an fp32 tolerance: CUDA cores, or 3xTF32 on tensor cores (TF32 is
    half the bf16 rate on NVIDIA tensor cores when only bf16 was measured)."""
    tf32 = rates.get("tf32") or (rates.get("bf16") or 0.0) / 2
    return max(rates.get("fp32") or 0.0, tf32 / FP32_SPLIT_PASSES)


def speed_of_light(bytes_moved: int | None, flops: int | None, peaks: DevicePeaks, dtype: str, generous: bool = False) -> SpeedOfLight:
    """SoL times in ms. fp32 work is credited the 3xTF32 rate when it beats the CUDA cores (see
    `fp32_rate`). `generous` (for the guard) uses the fastest matrix rate of any dtype, so a
    candidate that legitimately uses tensor cores on an fp32 problem is never called impossible,
    and the bandwidth margin above."""
    bw = peaks["bandwidth_Bps"] * (GUARD_BANDWIDTH_MARGIN if generous else 1.0)
    rates = peaks["flops"]
    if generous:
        rate = max(rates.values())
    elif dtype == "fp32":
        rate = fp32_rate(rates)
    else:
        rate = rates.get(dtype, max(rates.values()))
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


def device_peaks(home: Path, device: str, gpu_name: str, workdir: Path, timeout_s: float = 300.0) -> DevicePeaks | None:
    """Measured peaks of `device` (named `gpu_name`), cached or measured now; None if that failed."""
    import torch

    key = f"{gpu_name}|torch {torch.__version__}"
    cache = home / "peaks.json"
    # Tolerant read: runs on other GPUs of a bench may be writing the file at this moment.
    known = read_cache(cache)
    if unseal(known.get(key)) is not None:
        return unseal(known[key])
    workdir.mkdir(parents=True, exist_ok=True)
    result_path = workdir / "peaks.result.json"
    request = workdir / "peaks.request.json"
    request.write_text(json.dumps(dataclasses.asdict(PeaksRequest(device=device, result_path=str(result_path)))))
    run_child(["kernelwright.tools.worker", "peaks", str(request)], workdir, timeout_s, log_name="peaks", device=device)
    if not result_path.exists():
        return None
    peaks = json.loads(result_path.read_text())
    home.mkdir(parents=True, exist_ok=True)
    known[key] = seal(peaks)
    cache.write_text(json.dumps(known, indent=2))
    return peaks


# -- datasheet peaks: the fallback when nothing was measured ----------------------------------

_TB, _TF = 1e12, 1e12
# Dense rates (NVIDIA quotes tensor-core TF32/BF16/FP16 "with sparsity": those are halved here);
# fp32 is the CUDA-core rate, tf32/bf16/fp16 the tensor-core rates (fp32 accumulate), bandwidth is
# the memory interface's. Sources: the NVIDIA datasheets named per card (H100: "NVIDIA H100 Tensor
# Core GPU" datasheet; H200: "NVIDIA H200 Tensor Core GPU"; A100: "NVIDIA A100 Tensor Core GPU";
# L40S, L4, A10: their product datasheets; RTX 4090: "NVIDIA Ada GPU Architecture" whitepaper,
# appendix table). Measured peaks (copy and matmul, `device_peaks`) always take precedence.
KNOWN_CARDS: dict[str, DatasheetCard] = {
    "H100 SXM": {"bandwidth_Bps": 3.35 * _TB, "flops": {"fp32": 67 * _TF, "tf32": 494.5 * _TF, "bf16": 989.5 * _TF, "fp16": 989.5 * _TF}, "source": "NVIDIA H100 datasheet (SXM5 80GB)"},
    "H100 PCIe": {"bandwidth_Bps": 2.0 * _TB, "flops": {"fp32": 51 * _TF, "tf32": 378 * _TF, "bf16": 756.5 * _TF, "fp16": 756.5 * _TF}, "source": "NVIDIA H100 datasheet (PCIe 80GB)"},
    "H100 NVL": {"bandwidth_Bps": 3.9 * _TB, "flops": {"fp32": 60 * _TF, "tf32": 417.5 * _TF, "bf16": 835.5 * _TF, "fp16": 835.5 * _TF}, "source": "NVIDIA H100 datasheet (NVL 94GB)"},
    "H200 SXM": {"bandwidth_Bps": 4.8 * _TB, "flops": {"fp32": 67 * _TF, "tf32": 494.5 * _TF, "bf16": 989.5 * _TF, "fp16": 989.5 * _TF}, "source": "NVIDIA H200 datasheet (SXM 141GB)"},
    "H200 NVL": {"bandwidth_Bps": 4.8 * _TB, "flops": {"fp32": 60 * _TF, "tf32": 417.5 * _TF, "bf16": 835.5 * _TF, "fp16": 835.5 * _TF}, "source": "NVIDIA H200 datasheet (NVL 141GB)"},
    "A100 SXM 80GB": {"bandwidth_Bps": 2.039 * _TB, "flops": {"fp32": 19.5 * _TF, "tf32": 156 * _TF, "bf16": 312 * _TF, "fp16": 312 * _TF}, "source": "NVIDIA A100 datasheet (SXM4 80GB)"},
    "A100 SXM 40GB": {"bandwidth_Bps": 1.555 * _TB, "flops": {"fp32": 19.5 * _TF, "tf32": 156 * _TF, "bf16": 312 * _TF, "fp16": 312 * _TF}, "source": "NVIDIA A100 datasheet (SXM4 40GB)"},
    "A100 PCIe 80GB": {"bandwidth_Bps": 1.935 * _TB, "flops": {"fp32": 19.5 * _TF, "tf32": 156 * _TF, "bf16": 312 * _TF, "fp16": 312 * _TF}, "source": "NVIDIA A100 datasheet (PCIe 80GB)"},
    "A100 PCIe 40GB": {"bandwidth_Bps": 1.555 * _TB, "flops": {"fp32": 19.5 * _TF, "tf32": 156 * _TF, "bf16": 312 * _TF, "fp16": 312 * _TF}, "source": "NVIDIA A100 datasheet (PCIe 40GB)"},
    "L40S": {"bandwidth_Bps": 0.864 * _TB, "flops": {"fp32": 91.6 * _TF, "tf32": 183 * _TF, "bf16": 366.5 * _TF, "fp16": 366.5 * _TF}, "source": "NVIDIA L40S datasheet"},
    "L4": {"bandwidth_Bps": 0.300 * _TB, "flops": {"fp32": 30.3 * _TF, "tf32": 60 * _TF, "bf16": 121 * _TF, "fp16": 121 * _TF}, "source": "NVIDIA L4 datasheet"},
    "A10": {"bandwidth_Bps": 0.600 * _TB, "flops": {"fp32": 31.2 * _TF, "tf32": 62.5 * _TF, "bf16": 125 * _TF, "fp16": 125 * _TF}, "source": "NVIDIA A10 datasheet"},
    "RTX 4090": {"bandwidth_Bps": 1.008 * _TB, "flops": {"fp32": 82.6 * _TF, "tf32": 82.6 * _TF, "bf16": 165.2 * _TF, "fp16": 165.2 * _TF}, "source": "NVIDIA Ada GPU architecture whitepaper (GeForce RTX 4090)"},
}
# torch's device names -> a KNOWN_CARDS key; first match wins (NVL and PCIe before the plain name).
_CARD_PATTERNS = [
    (r"H100.*NVL", "H100 NVL"), (r"H100.*PCI", "H100 PCIe"), (r"H100", "H100 SXM"),
    (r"H200.*NVL", "H200 NVL"), (r"H200", "H200 SXM"),
    (r"A100.*SXM.*40", "A100 SXM 40GB"), (r"A100.*SXM", "A100 SXM 80GB"),
    (r"A100.*(80GB.*PCI|PCI.*80)", "A100 PCIe 80GB"), (r"A100.*PCI", "A100 PCIe 40GB"),
    (r"L40S", "L40S"), (r"\bL4\b", "L4"), (r"\bA10\b", "A10"), (r"RTX 4090", "RTX 4090"),
]
# The card a static profile assumes for its compile target when there is no GPU to ask.
TARGET_CARD = {90: "H100 SXM", 80: "A100 SXM 80GB", 89: "L4"}


def known_card(gpu_name: str) -> str | None:
    """The KNOWN_CARDS key for a device name such as 'NVIDIA H100 80GB HBM3', or None."""
    for pattern, card in _CARD_PATTERNS:
        if re.search(pattern, gpu_name or "", re.IGNORECASE):
            return card
    return None


def datasheet_peaks(card: str) -> DevicePeaks:
    """Peaks in the shape `device_peaks` returns, from the table, marked with their source."""
    entry = KNOWN_CARDS[card]
    return {"gpu": card, "bandwidth_Bps": entry["bandwidth_Bps"], "flops": dict(entry["flops"]), "source": f"datasheet: {entry['source']}"}


# -- bound classification and the profile's roofline ------------------------------------------

# Below this speed-of-light time a kernel launch (a few microseconds on current GPUs) costs more
# than the work itself: no kernel can be memory- or compute-bound there.
LAUNCH_FLOOR_MS = 0.005
# A forward whose kernels keep the GPU busy less than this share of its time waits on launches.
BUSY_FRACTION_FLOOR = 0.5


def classify_bound(t_memory_ms: float, t_compute_ms: float, measured_ms: float | None = None, busy_ms: float | None = None) -> str:
    """memory / compute (which ceiling the ideal kernel meets first) or latency-or-launch (the
    work is too small for either, or the measured forward left the GPU idle most of the time)."""
    if measured_ms and busy_ms is not None and busy_ms < BUSY_FRACTION_FLOOR * measured_ms:
        return "latency-or-launch"
    if max(t_memory_ms, t_compute_ms) < LAUNCH_FLOOR_MS:
        return "latency-or-launch"
    return "memory" if t_memory_ms >= t_compute_ms else "compute"


def roofline_report(
    cost: ProblemCost,
    peaks: DevicePeaks,
    measured_ms: float | None = None,
    measured_by: str | None = None,
    busy_ms: float | None = None,
) -> RooflineReport:
    """The problem against the device: SoL time, bound, and (when a time was measured) % of SoL
    and the headroom factor measured / SoL. `cost` is `problem_cost`'s answer."""
    dtype = dtype_class(cost.get("dtype") or "float32")
    light = speed_of_light(cost.get("bytes"), cost.get("flops"), peaks, dtype)
    sol = light["t_sol_ms"]
    flops, nbytes = cost.get("flops"), cost.get("bytes")
    return {
        **light,  # its `bound` (memory or compute) replaced in place by the classification below
        "bound": classify_bound(light["t_memory_ms"], light["t_compute_ms"], measured_ms, busy_ms),
        "dtype": dtype,
        "arithmetic_intensity": (flops / nbytes) if flops is not None and nbytes else None,
        "peaks": {"gpu": peaks.get("gpu"), "bandwidth_Bps": peaks.get("bandwidth_Bps"), "flops": peaks.get("flops"),
                  "source": peaks.get("source", "measured")},
        "measured_ms": measured_ms,
        "measured_by": measured_by if measured_ms else None,
        "pct_of_sol": 100.0 * sol / measured_ms if measured_ms and sol else None,
        "headroom": measured_ms / sol if measured_ms and sol else None,
    }


# -- the problem's minimum bytes and flops ------------------------------------------------------

def problem_cost(problem_path: Path, device: str, workdir: Path, timeout_s: float, home: Path | None = None) -> ProblemCost:
    """Bytes (inputs, parameters and buffers read once, outputs written once), flops
    (FlopCounterMode) and output dtype of the reference at its shipped sizes, from the `flops`
    child: on the meta device where the reference allows it, else on `device`. `ok` is False with
    `error` (the reference raised) or `failure` (the child timed out or crashed) otherwise. On the
    CPU a good answer is cached in HOME/problem_costs.json by problem content and torch version."""
    import torch

    key = hashlib.sha256(Path(problem_path).read_bytes() + torch.__version__.encode()).hexdigest()[:24]
    cache = (home / "problem_costs.json") if home and device == "cpu" else None
    known = read_cache(cache)
    if unseal(known.get(key)) is not None:
        return {**unseal(known[key]), "cached": True}
    workdir.mkdir(parents=True, exist_ok=True)
    result_path = workdir / "flops.result.json"
    request = workdir / "flops.request.json"
    FlopsRequest(problem_path=str(problem_path), device=device, result_path=str(result_path)).write(request)
    child = run_child(["kernelwright.tools.worker.flops", str(request)], workdir, timeout_s, log_name="flops",
                      mounts=Mounts(readable=(Path(problem_path),)), device=device)
    result = read_answer(FLOPS, result_path, {})
    if not result:
        tail = (child.stderr.strip().splitlines() or ["no output"])[-1][:300]
        why = f"timed out after {timeout_s:.0f}s" if child.timed_out else child.signal_name or tail
        return {"ok": False, "failure": f"the flop-counting child gave no answer: {why}"}
    if result.get("ok") and cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        known[key] = seal({k: v for k, v in result.items() if k != "device_facts"})
        cache.write_text(json.dumps(known, indent=2))
    return {**result, "cached": False}

