"""The poison a checked call's fresh allocations are filled with, so output elements a kernel never
wrote are found exactly, whatever the allocator did.

The pattern is drawn at random for every call (`PoisonPattern.drawn`; a check's calls get both
float kinds, in a random order, whenever it has two calls or more): a candidate that learnt
one pattern (or that fresh memory is NaN) and behaves honestly only when it sees it would be
recognising the checker. Float32/float64 calls get either a NaN with a random payload or a
huge finite value with random mantissa bits (a value no reference produces, so "fresh memory
is NaN" is no tell either); 16-bit floats get a NaN with a random payload (their finite values
are too few to be safe from an honest output); integers a large random sentinel. Every pattern
avoids what arithmetic produces (canonical NaNs, small integers), so a written element never
looks unwritten. The parent learns each call's pattern from the signed event log.
"""

from __future__ import annotations

import dataclasses
import random

import torch

# The integer view used to write and compare each dtype's pattern.
INT_VIEW: dict[torch.dtype, torch.dtype] = {
    torch.float32: torch.int32,
    torch.float64: torch.int64,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
    torch.int32: torch.int32,
    torch.int64: torch.int64,
    torch.int16: torch.int16,
}
# The fixed pattern of earlier versions: still the default where no call-specific one is known
# (the timed phase's released outputs, tests).
FIXED_BITS: dict[torch.dtype, int] = {
    torch.float32: 0x7FCA5A5A,
    torch.float64: 0x7FF8A5A5A5A5A5A5,
    torch.float16: 0x7E5A,
    torch.bfloat16: 0x7FDA,
    torch.int32: 0x5A5A5A5A,
    torch.int64: 0x5A5A5A5A5A5A5A5A,
    torch.int16: 0x5A5A,
}


def _float_nan(rng: random.Random, sign_bit: int, exp_mask: int, quiet_bit: int, avoid: int = -1) -> int:
    """A quiet NaN with a random nonzero payload (the quiet bit alone is the canonical NaN
    arithmetic produces), other than `avoid` (the old fixed pattern)."""
    while True:
        payload = rng.getrandbits(quiet_bit.bit_length() - 1)
        bits = (sign_bit if rng.getrandbits(1) else 0) | exp_mask | quiet_bit | payload
        if payload and bits != avoid:
            return bits


def _float_huge(rng: random.Random, sign_bit: int, top_exponent: int, mantissa_bits: int) -> int:
    return (sign_bit if rng.getrandbits(1) else 0) | top_exponent | rng.getrandbits(mantissa_bits)


def _sentinel(rng: random.Random, bits: int) -> int:
    """A value in [2^(bits-2), 2^(bits-1)) or its negative, as an unsigned pattern of `bits` bits."""
    value = rng.randrange(1 << (bits - 2), 1 << (bits - 1))
    return value if rng.getrandbits(1) else (1 << bits) - value


@dataclasses.dataclass(frozen=True)
class PoisonPattern:
    """One bit pattern per dtype (unsigned, of the dtype's width)."""

    bits: dict[torch.dtype, int]

    @classmethod
    def fixed(cls) -> PoisonPattern:
        return cls(dict(FIXED_BITS))

    @classmethod
    def drawn(cls, rng: random.Random | None = None, finite: bool | None = None) -> PoisonPattern:
        """A fresh pattern; `finite` picks the float32/float64 kind (default: at random)."""
        rng = rng or random.SystemRandom()
        finite = bool(rng.getrandbits(1)) if finite is None else finite
        f32 = _float_huge(rng, 1 << 31, 0xFE << 23, 23) if finite else _float_nan(rng, 1 << 31, 0xFF << 23, 1 << 22)
        f64 = _float_huge(rng, 1 << 63, 0x7FE << 52, 52) if finite else _float_nan(rng, 1 << 63, 0x7FF << 52, 1 << 51)
        return cls(
            {
                torch.float32: f32,
                torch.float64: f64,
                torch.float16: _float_nan(rng, 1 << 15, 0x1F << 10, 1 << 9, FIXED_BITS[torch.float16]),
                torch.bfloat16: _float_nan(rng, 1 << 15, 0xFF << 7, 1 << 6, FIXED_BITS[torch.bfloat16]),
                torch.int32: _sentinel(rng, 32),
                torch.int64: _sentinel(rng, 64),
                torch.int16: _sentinel(rng, 16),
            }
        )

    def to_json(self) -> dict[str, int]:
        return {str(dtype).removeprefix("torch."): bits for dtype, bits in self.bits.items()}

    @classmethod
    def from_json(cls, data: dict[str, int] | None) -> PoisonPattern:
        if not data:
            return cls.fixed()
        return cls({getattr(torch, name): int(bits) for name, bits in data.items() if name in _NAMES})

    def signed_value(self, dtype: torch.dtype) -> tuple[torch.dtype, int] | None:
        """(integer view dtype, the pattern as that signed integer), or None for dtypes without one."""
        bits = self.bits.get(dtype)
        if bits is None:
            return None
        int_dtype = INT_VIEW[dtype]
        width = torch.iinfo(int_dtype).bits
        return int_dtype, bits - (1 << width) if bits >= 1 << (width - 1) else bits


_NAMES = {str(d).removeprefix("torch.") for d in INT_VIEW}


def poison_(t: torch.Tensor, pattern: PoisonPattern | None = None) -> None:
    """Fill `t` with the pattern of its dtype (no-op for dtypes without one)."""
    entry = (pattern or _FIXED).signed_value(t.dtype)
    if entry is None or t.numel() == 0:
        return
    int_dtype, value = entry
    if t.dtype == int_dtype:
        t.fill_(value)
    else:
        t.view(int_dtype).fill_(value)


def poisoned_mask(t: torch.Tensor, pattern: PoisonPattern | None = None) -> torch.Tensor:
    """True where `t` still holds the pattern (i.e. was never written)."""
    entry = (pattern or _FIXED).signed_value(t.dtype)
    if entry is None:
        return torch.zeros(t.shape, dtype=torch.bool, device=t.device)
    int_dtype, value = entry
    view = t if t.dtype == int_dtype else t.view(int_dtype)
    return view == value


def poison_allocator(nbytes: int, device: torch.device, pattern: PoisonPattern | None = None) -> None:
    """Fill about `nbytes` of free allocator memory with the pattern, then free it (CUDA caching allocator)."""
    if device.type != "cuda" or nbytes <= 0:
        return
    block = torch.empty(nbytes // 4 + 1, dtype=torch.float32, device=device)
    poison_(block, pattern)
    del block


_FIXED = PoisonPattern.fixed()
