"""The debugger's known repairs: a failure the expert recognises gets a rewritten configuration;
anything else gets none (that configuration is given up).

| failure (verdict / message) | repair |
| --- | --- |
| shared memory / out of resources | matmul, conv: fewer pipeline stages, then a shorter BLOCK_K, then a smaller tile; others: half the block |
| registers, spills | half the block (matmul: the wider tile side) |
| non-power-of-two range (`arange`) | blocks rounded down to powers of two |
| unwritten output, illegal address, out of bounds | every matmul load masked (`masks=all`) |
| shape_overfit (matmul: right at the shipped sizes only) | no split epilogue, every load masked |
| dtype_mismatch "expected X" | the output allocated as X |
| dtype errors inside the kernel (dot operands) | the matmul or conv multiplies in fp32 (`f32_dot`) |
| wrong_output with 3xTF32 (matmul, conv) | plain fp32 products (`precision=ieee`) |
"""

from __future__ import annotations

import dataclasses
import re

from kernelwright.agents.expert.configs import Config, dedupe, next_pow2

_RESOURCES = ("shared memory", "out of resources", "outofresources", "too many resources", "smem")
_REGISTERS = ("registers", "spill")
_POW2 = ("power of two", "power-of-two", "power of 2", "arange")
_BOUNDS = ("illegal memory access", "out of bounds", "misaligned address", "never written")
_DTYPE_IN_KERNEL = ("same dtype", "dtype mismatch", "incompatible types", "both operands", "type mismatch")
_EXPECTED = re.compile(r"expected (float32|bfloat16|float16|float64)")


@dataclasses.dataclass
class Repair:
    configs: list[Config]
    what: str


def _pow2_floor(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


def _smaller(c: Config, family: str) -> Config | None:
    """The next config down the resource ladder, or None at the bottom."""
    if family not in ("matmul", "conv"):
        block = _pow2_floor(c.block) // 2 if _pow2_floor(c.block) == c.block else _pow2_floor(c.block)
        return None if block < 64 else dataclasses.replace(c, block=block, num_warps=max(1, min(c.num_warps, block // 64)))
    if (c.num_stages or 3) > 2:
        return dataclasses.replace(c, num_stages=(c.num_stages or 3) - 1)
    if c.block_k > 32:
        return dataclasses.replace(c, block_k=c.block_k // 2)
    if max(c.block_m, c.block_n) > 64:
        if c.block_n >= c.block_m:
            return dataclasses.replace(c, block_n=c.block_n // 2)
        return dataclasses.replace(c, block_m=c.block_m // 2)
    return None


def repair(family: str, configs: list[Config], verdict: str, message: str) -> Repair | None:
    """The repaired configs for a candidate that failed with `verdict` / `message`, or None."""
    text = message.lower()
    out: list[Config] = []
    if any(k in text for k in _RESOURCES) or (verdict == "compile_error" and any(k in text for k in _REGISTERS)):
        out = [s for s in (_smaller(c, family) for c in configs) if s is not None]
        what = "smaller tiles / fewer stages (shared memory or registers ran out)"
    elif any(k in text for k in _POW2):
        def fix(c: Config) -> Config:
            return dataclasses.replace(c, block=_pow2_floor(c.block), block_m=_pow2_floor(c.block_m) if c.block_m else 0,
                                       block_n=_pow2_floor(c.block_n) if c.block_n else 0,
                                       block_k=_pow2_floor(c.block_k) if c.block_k else 0, num_warps=next_pow2(c.num_warps))
        out = [fix(c) for c in configs]
        what = "block sizes rounded to powers of two"
    elif family == "matmul" and verdict == "shape_overfit":
        # What differs at odd sizes: the wrapped rows/columns, the K mask and (GPU only) the split
        # epilogue on register-staged tiles; the plainest kernel of the same tiles avoids all three.
        out = [dataclasses.replace(c, epilogue_split=1, masks="all") for c in configs]
        what = "no split epilogue and every load masked (wrong only at other sizes)"
    elif family == "matmul" and (verdict in ("unwritten_output", "crash") or any(k in text for k in _BOUNDS)):
        out = [dataclasses.replace(c, masks="all") for c in configs if c.masks != "all"]
        what = "every load masked (rows, columns and K)"
    elif verdict == "dtype_mismatch" and _EXPECTED.search(text):
        dtype = _EXPECTED.search(text).group(1)
        out = [dataclasses.replace(c, out_dtype=dtype) for c in configs if c.out_dtype != dtype]
        what = f"output allocated as torch.{dtype}"
    elif family in ("matmul", "conv") and verdict == "compile_error" and any(k in text for k in _DTYPE_IN_KERNEL):
        out = [dataclasses.replace(c, f32_dot=True) for c in configs if not c.f32_dot]
        what = "dot operands converted to fp32"
    elif family in ("matmul", "conv") and verdict == "wrong_output" and any(c.precision != "ieee" for c in configs):
        out = [dataclasses.replace(c, precision="ieee") for c in configs]
        what = "plain fp32 products (input_precision='ieee') instead of 3xTF32"
    out = [c for c in dedupe(out) if c not in configs]
    return Repair(out, what) if out else None
