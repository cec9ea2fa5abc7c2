"""Theoretical occupancy from a kernel's static resources, as the CUDA occupancy calculator and
Nsight Compute's Occupancy section compute it: how many blocks fit on one SM given registers per
thread, warps per block and shared memory per block, and which of these runs out first.

Per-architecture limits are from the CUDA C++ Programming Guide's table of compute-capability
features. Registers are allocated per warp in units of 256 and per SM sub-partition (4 per SM);
every block also holds 1 KB of shared memory reserved by the CUDA runtime (sm_80 and later).
A kernel with little shared memory gets a small carveout from the driver; the limit below assumes
the largest carveout, so shared memory is named only when it really caps occupancy.
"""

from __future__ import annotations

import dataclasses

ARCH_LIMITS: dict[int, dict[str, int]] = {
    # registers per SM, max warps per SM, max blocks per SM, max shared memory per SM (bytes)
    80: {"registers": 65536, "warps": 64, "blocks": 32, "shared": 167936},
    86: {"registers": 65536, "warps": 48, "blocks": 16, "shared": 102400},
    89: {"registers": 65536, "warps": 48, "blocks": 24, "shared": 102400},
    90: {"registers": 65536, "warps": 64, "blocks": 32, "shared": 233472},
    100: {"registers": 65536, "warps": 64, "blocks": 32, "shared": 233472},
}
REGISTER_UNIT = 256  # registers are allocated per warp in multiples of this
SUB_PARTITIONS = 4
SHARED_UNIT = 128
RESERVED_SHARED = 1024  # per block, reserved by the CUDA runtime


def _round_up(x: int, unit: int) -> int:
    return -(-x // unit) * unit


@dataclasses.dataclass(frozen=True)
class Occupancy:
    arch: str  # "sm_90"
    blocks_per_sm: int
    warps_per_sm: int
    occupancy_pct: float  # of the SM's warp slots
    block_limits: dict[str, int]  # resource ("registers", "warps per block", ...) -> blocks it allows
    limiter: str | None  # the resource(s) that run out first; None at 100%


def theoretical_occupancy(registers: int, num_warps: int, shared_bytes: int, arch: int = 90) -> Occupancy:
    """Blocks and warps per SM, occupancy in % of the SM's warp slots, the per-resource block
    limits, and the limiter (None when occupancy is 100%)."""
    lim = ARCH_LIMITS.get(arch, ARCH_LIMITS[90])
    warps = max(1, num_warps)
    per_warp = _round_up(max(1, registers) * 32, REGISTER_UNIT)
    warps_by_registers = SUB_PARTITIONS * ((lim["registers"] // SUB_PARTITIONS) // per_warp)
    per_block_shared = _round_up(max(0, shared_bytes) + RESERVED_SHARED, SHARED_UNIT)
    limits = {
        "registers": warps_by_registers // warps,
        "warps per block": lim["warps"] // warps,
        "blocks per SM": lim["blocks"],
        "shared memory": lim["shared"] // per_block_shared,
    }
    blocks = min(limits.values())
    active = min(blocks * warps, lim["warps"])
    pct = 100.0 * active / lim["warps"]
    limiter = None if pct >= 100 else " and ".join(k for k, v in limits.items() if v == blocks)
    return Occupancy(arch=f"sm_{arch}", blocks_per_sm=blocks, warps_per_sm=active, occupancy_pct=pct, block_limits=limits, limiter=limiter)
