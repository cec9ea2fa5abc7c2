"""Tuning configurations of the expert kernels and the spaces they are searched in.

A `Config` is one point (block sizes, warps, stages, dot precision); a candidate carries one
config (direct launch) or several (`@triton.autotune` keyed on the sizes picks among them on the
GPU). `knobs_text` / `parse_knobs` write and read the `KEY=VALUE` form shared by solution
headers, debugger repairs and the `change` field of lessons.

Spaces are chosen from the family, the sizes and, after the first round, the last profile:
memory-bound kernels get bigger blocks and more work per program, compute-bound matmuls other
tile shapes and pipeline depths. On the CPU (Triton's interpreter) there is one config per
candidate: each program instance and loop step costs milliseconds there, so blocks are large.
"""

from __future__ import annotations

import dataclasses
import math
import re

PRECISIONS = ("ieee", "tf32x3", "tf32")
OUT_DTYPES = ("float32", "bfloat16", "float16", "float64")
_KEYS = {
    "BLOCK": "block", "BLOCK_SIZE": "block", "BLOCK_M": "block_m", "BLOCK_N": "block_n", "BLOCK_K": "block_k",
    "GROUP_M": "group_m", "GROUP_SIZE_M": "group_m", "num_warps": "num_warps", "num_stages": "num_stages",
    "precision": "precision", "input_precision": "precision", "masks": "masks", "out_dtype": "out_dtype",
    "f32_dot": "f32_dot", "EPILOGUE_SPLIT": "epilogue_split", "BLOCK_Q": "block_q",
}
# Knobs with a word for a value, and the words each accepts.
_WORDS = {"precision": PRECISIONS, "masks": ("auto", "all"), "out_dtype": OUT_DTYPES, "f32_dot": ("0", "1")}


@dataclasses.dataclass(frozen=True)
class Config:
    block: int = 1024  # elementwise: BLOCK; rows: the largest BLOCK (shorter rows use next_pow2(n_cols))
    num_warps: int = 4
    num_stages: int | None = None  # None: Triton's default
    block_m: int = 0  # matmul tile
    block_n: int = 0
    block_k: int = 0
    group_m: int = 8  # matmul: programs ordered in groups of GROUP_M tile rows (L2 reuse)
    precision: str = "ieee"  # fp32 matmul operands: ieee | tf32x3 (16-bit ones always use tensor cores)
    epilogue_split: int = 1  # matmul: 2 runs the epilogue on each half of the tile (fewer live registers)
    block_q: int = 0  # cols: rows side by side in a tile (the contiguous axis); BLOCK is the chunk along the row
    # Debugger repairs (defaults leave the kernel as designed):
    masks: str = "auto"  # matmul: "all" masks every load instead of wrapping rows and skipping K masks
    out_dtype: str | None = None  # allocate the output in this torch dtype instead of the inputs' one
    f32_dot: bool = False  # matmul: always multiply in fp32 (operands of mismatched dtypes)

    def knobs(self, family: str) -> dict[str, int | str]:
        if family == "conv":
            out = {"BLOCK_M": self.block_m, "BLOCK_N": self.block_n, "BLOCK_K": self.block_k, "num_warps": self.num_warps,
                   "num_stages": self.num_stages or 3, "precision": self.precision}
            if self.f32_dot:
                out["f32_dot"] = 1
        elif family == "matmul":
            out: dict[str, int | str] = {"BLOCK_M": self.block_m, "BLOCK_N": self.block_n, "BLOCK_K": self.block_k,
                                         "GROUP_M": self.group_m, "num_warps": self.num_warps}
            out["num_stages"] = self.num_stages or 3
            out["precision"] = self.precision
            if self.epilogue_split != 1:
                out["EPILOGUE_SPLIT"] = self.epilogue_split
            if self.masks != "auto":
                out["masks"] = self.masks
            if self.f32_dot:
                out["f32_dot"] = 1
        else:
            out = {"BLOCK": self.block, "num_warps": self.num_warps}
            if family == "cols":
                out = {"BLOCK": self.block, "BLOCK_Q": self.block_q, "num_warps": self.num_warps}
            if self.num_stages:
                out["num_stages"] = self.num_stages
        if self.out_dtype:
            out["out_dtype"] = self.out_dtype
        return out

    def text(self, family: str = "elementwise") -> str:
        return knobs_text(self.knobs(family))


def knobs_text(knobs: dict[str, int | str]) -> str:
    return " ".join(f"{k}={v}" for k, v in knobs.items())


_PAIR = re.compile(r"\b([A-Za-z_]+)\s*=\s*([A-Za-z0-9_.\-]+)")


def parse_knobs(text: str, family: str) -> list[Config]:
    """Configs stated in `text` as KEY=VALUE pairs, one config per `;`-separated part (or per
    line). A part with a value that is not a plain number (a range like `3-4`), or without the
    knobs the family needs, makes the whole text unparseable: []."""
    configs = []
    for part in re.split(r"[;\n|]", text):
        pairs = _PAIR.findall(part)
        if not pairs:
            continue
        fields: dict[str, int | str] = {}
        for key, value in pairs:
            name = _KEYS.get(key) or _KEYS.get(key.upper())
            if name is None:
                continue
            if name in _WORDS:
                if value not in _WORDS[name]:
                    return []
                fields[name] = value == "1" if name == "f32_dot" else value
            elif value.isdigit() and int(value) > 0:
                fields[name] = int(value)
            else:
                return []
        need = ("block_m", "block_n", "block_k") if family in ("matmul", "conv") else ("block", "block_q") if family == "cols" else ("block",)
        if not all(n in fields for n in need):
            return []
        if family in ("matmul", "conv"):
            fields.setdefault("num_warps", 8 if fields["block_m"] * fields["block_n"] >= 128 * 128 else 4)
            fields.setdefault("num_stages", 3)
        if not all(_pow2(int(fields[n])) for n in (*need, "num_warps") if n in fields):
            return []
        configs.append(Config(**fields))
    return configs


def _pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def next_pow2(n: int) -> int:
    return 1 << max(0, (max(n, 1) - 1).bit_length())


def dedupe(configs: list[Config]) -> list[Config]:
    return list(dict.fromkeys(configs))


# -- sizes ----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Sizes:
    """The sizes tuning looks at (and lessons' shape regimes are matched against)."""

    numel: int
    n_cols: int
    rows: int
    m: int = 0
    n: int = 0
    k: int = 0
    batch: int = 1
    q: int = 1  # cols: the length of the dims after the reduced ones

    def values(self) -> dict[str, int]:
        return {"numel": self.numel, "n_cols": self.n_cols, "rows": self.rows, "M": self.m, "N": self.n, "K": self.k,
                "batch": self.batch}


def sizes_of(t) -> Sizes:
    shape = tuple(t.main_shape) or (1,)
    numel, n_cols = math.prod(shape), shape[-1]
    space = getattr(t, "space", None)
    if t.family in ("rows", "cols") and space is not None:
        n_cols, q = space.extent("r"), space.extent("q")
        return Sizes(numel, n_cols, numel // max(n_cols * q, 1), q=q)
    if t.family == "conv":  # the implicit GEMM's M, N (a group's output channels) and K
        return Sizes(numel, n_cols, numel // max(n_cols, 1), t.conv.m, t.conv.n, t.conv.k)
    if t.family != "matmul":
        return Sizes(numel, n_cols, numel // max(n_cols, 1))
    folded = t.matmul.folded
    m = numel // n_cols if folded else shape[-2]
    batch = 1 if folded else math.prod(shape[:-2])
    return Sizes(numel, n_cols, numel // max(n_cols, 1), m, n_cols, t.matmul_k, batch)


# -- the CPU (interpreter) ------------------------------------------------------------------------

def cpu_configs(family: str, s: Sizes) -> list[Config]:
    """Big blocks: few program instances and loop steps under the interpreter."""
    if family == "elementwise":
        b = min(max(1024, next_pow2(s.numel)), 16384)
        half = max(1024, b // 2)
        return [Config(b, min(16, b // 256)), Config(half, min(16, half // 256))]
    if family == "rows":
        return [Config(2048, 4), Config(1024, 4)]
    if family == "cols":
        return [Config(min(1024, next_pow2(s.n_cols)), 4, block_q=64), Config(256, 4, block_q=32)]
    if family == "scan":
        return [Config(1024, 4), Config(512, 4)]
    if family == "pool":
        return [Config(1024, 4), Config(512, 4)]

    def tile(n: int, cap: int) -> int:
        return min(cap, max(16, next_pow2(n)))

    if family == "conv":  # every loop step costs the same at any tile size: up to 1024 output positions a tile
        first = Config(block_m=tile(s.m, 1024), block_n=tile(s.n, 64), block_k=64, num_warps=4, num_stages=2)
        return dedupe([first, dataclasses.replace(first, block_m=tile(s.m, 64), block_n=tile(s.n, 32), block_k=32)])

    first = Config(block_m=tile(s.m, 64), block_n=tile(s.n, 64), block_k=tile(s.k, 64), num_warps=4, num_stages=2)
    second = dataclasses.replace(first, block_m=tile(s.m, 32), block_n=tile(s.n, 32), block_k=tile(s.k, 32))
    return dedupe([first, second])


# -- the GPU ----------------------------------------------------------------------------------------

def _mm(bm: int, bn: int, bk: int, warps: int, stages: int, precision: str = "ieee", group_m: int = 8) -> Config:
    return Config(block_m=bm, block_n=bn, block_k=bk, num_warps=warps, num_stages=stages, precision=precision, group_m=group_m)


def _row_warps(block: int) -> int:
    return 1 if block <= 128 else 2 if block <= 256 else 4 if block <= 1024 else 8 if block <= 4096 else 16


def gpu_spaces(family: str, s: Sizes, dtype: str, heavy_epilogue: bool = False) -> dict[str, list[Config]]:
    """Named spaces for a GPU, in the order a run tries them when the profile says nothing:
    `first` (sizes alone), then `memory` (bigger blocks, more work per program) or `compute`
    (tile shapes and pipeline depth) as the profile asks, then `neighbours`. With a
    `heavy_epilogue` (transcendentals or a full tile of another tensor), matmul tiles that hold
    128 or more accumulator values per thread run the epilogue on half the tile at a time."""
    if family == "elementwise":
        if s.numel < (1 << 17):  # small: enough programs to fill the SMs matters more than block size
            first = [Config(256, 2), Config(512, 4), Config(1024, 4)]
        else:
            first = [Config(1024, 4), Config(2048, 4), Config(4096, 8), Config(8192, 8)]
        return {"first": first,
                "memory": [Config(4096, 4), Config(8192, 16), Config(16384, 16), Config(2048, 8)],
                "compute": [Config(1024, 8), Config(2048, 8), Config(512, 4)],
                "neighbours": [Config(512, 4), Config(1024, 8), Config(2048, 16)]}
    if family == "rows":
        # The whole row in one block up to 32768 elements (a 32000-wide vocabulary: 64 fp32
        # values per thread with 16 warps, no spills on sm_90), so the row is read once.
        p = next_pow2(s.n_cols)
        single = min(p, 32768)
        w = _row_warps(single)
        first = [Config(single, w), Config(single, min(32, w * 2)), Config(single, max(1, w // 2))]
        if p > 8192:
            first.append(Config(8192, 16))  # chunks: a second read of the row, never a spill
        # Later rounds: other warp counts for the one-block row, and half-size chunks (two reads).
        memory = [Config(single, min(32, w * 4)), Config(single, max(1, w // 4)), Config(max(256, single // 2), w)]
        compute = [Config(single, min(32, w * 2)), Config(max(256, single // 2), max(1, w // 2))]
        neighbours = [Config(single, max(1, w // 4)), Config(min(p, 2048), 8), Config(max(256, single // 2), min(32, w * 2))]
        return {"first": dedupe(first), "memory": dedupe(memory), "compute": dedupe(compute), "neighbours": dedupe(neighbours)}
    if family == "cols":
        return cols_spaces(s)
    if family == "pool":  # output tiles; each element reads its window (overlaps hit the caches)
        return {"first": [Config(512, 4), Config(1024, 4), Config(256, 2), Config(2048, 8)],
                "memory": [Config(2048, 4), Config(4096, 8)], "compute": [Config(1024, 8), Config(512, 8)],
                "neighbours": [Config(256, 4), Config(1024, 2)]}
    if family == "conv":
        return conv_spaces(s, dtype)
    if family == "scan":  # one row per program; a chunk's scan in registers, then a carry
        return {"first": [Config(1024, 4), Config(2048, 8), Config(4096, 8), Config(512, 4)],
                "memory": [Config(4096, 16), Config(8192, 16)], "compute": [Config(1024, 8), Config(2048, 4)],
                "neighbours": [Config(2048, 16), Config(1024, 2)]}
    wide = dtype in ("bf16", "fp16")
    if wide and s.m <= 64:  # skinny: one row of tiles, so narrow N tiles and long K steps keep the SMs fed
        first = [_mm(64, 64, 128, 4, 4), _mm(64, 128, 64, 4, 4), _mm(64, 256, 64, 4, 3), _mm(64, 32, 128, 4, 4)]
        compute = [_mm(64, 128, 128, 4, 3), _mm(64, 64, 256, 4, 3), _mm(64, 256, 64, 8, 3)]
        memory = [_mm(64, 32, 256, 4, 3), _mm(64, 64, 128, 4, 5), _mm(64, 128, 128, 8, 3)]
        neighbours = [_mm(64, 64, 64, 4, 4), _mm(64, 128, 32, 4, 4), _mm(64, 32, 64, 4, 4)]
    elif wide:
        # 128x128x64 in 3 stages (96 KB: two blocks per SM) was the fastest of 31 tiles for a
        # K=1024 linear on an H200, 7% ahead of the big tiles (benchmarks/matmul_space.py).
        first = [_mm(128, 256, 64, 8, 3), _mm(128, 128, 64, 8, 4), _mm(256, 128, 64, 8, 3), _mm(128, 128, 64, 4, 4),
                 _mm(64, 128, 64, 4, 4), _mm(128, 128, 64, 8, 3)]
        compute = [_mm(128, 256, 64, 8, 4), _mm(256, 128, 64, 8, 4), _mm(128, 128, 128, 8, 3), _mm(128, 256, 32, 8, 5),
                   _mm(128, 128, 64, 8, 5, group_m=16)]
        memory = [_mm(128, 256, 128, 8, 2), _mm(128, 128, 128, 8, 3), _mm(256, 128, 128, 8, 2)]
        neighbours = [_mm(128, 128, 32, 4, 4), _mm(64, 256, 32, 4, 4), _mm(128, 64, 64, 4, 4)]
    else:  # fp32: 3xTF32 keeps fp32 accuracy on tensor cores; plain fp32 FMA ('ieee') is the fallback
        t3 = "tf32x3"
        if s.m <= 64:
            first = [_mm(64, 64, 64, 4, 3, t3), _mm(64, 128, 32, 4, 3, t3), _mm(64, 64, 32, 4, 4, t3), _mm(64, 32, 64, 4, 3, t3)]
        else:
            first = [_mm(128, 128, 32, 8, 3, t3), _mm(128, 64, 32, 4, 3, t3), _mm(64, 128, 32, 4, 3, t3), _mm(64, 64, 32, 4, 4, t3)]
        compute = [_mm(128, 128, 32, 8, 4, t3), _mm(256, 64, 32, 8, 3, t3), _mm(128, 128, 64, 8, 2, t3)]
        memory = [_mm(64, 64, 64, 4, 3, t3), _mm(128, 128, 32, 8, 2, t3), _mm(64, 128, 32, 4, 4, t3)]
        neighbours = [_mm(64, 64, 32, 4, 3), _mm(64, 128, 32, 4, 3), _mm(128, 64, 32, 8, 3)]  # plain fp32 products
    spaces = {"first": first, "memory": memory, "compute": compute, "neighbours": neighbours}
    if heavy_epilogue:
        spaces = {name: [split_heavy(c) for c in space] for name, space in spaces.items()}
    return {name: fitting(space, 2 if wide else 4) for name, space in spaces.items()}


def cols_spaces(s: Sizes) -> dict[str, list[Config]]:
    """A reduction over a middle dim: tiles of BLOCK positions along the row by BLOCK_Q rows side by
    side (contiguous in memory, so BLOCK_Q of 64+ fp32 values gives full 256-byte lines). A row
    of up to 256 fits one tile (read once, e.g. an RMS norm over 64 channels); longer rows loop."""
    p = next_pow2(s.n_cols)
    q = next_pow2(s.q)
    if p <= 256:
        bq = min(256, max(16, 8192 // p), max(16, q))
        first = [Config(p, 4, block_q=bq), Config(p, 8, block_q=bq), Config(p, 4, block_q=max(16, bq // 2))]
        memory = [Config(p, 8, block_q=min(512, bq * 2)), Config(p, 2, block_q=max(16, bq // 4))]
    else:
        first = [Config(64, 4, block_q=min(128, max(16, q))), Config(32, 4, block_q=min(256, max(16, q))),
                 Config(128, 8, block_q=min(64, max(16, q))), Config(16, 4, block_q=min(256, max(16, q)))]
        memory = [Config(64, 8, block_q=min(256, max(16, q))), Config(256, 8, block_q=min(32, max(16, q)))]
    compute = [Config(c.block, min(16, c.num_warps * 2), block_q=c.block_q) for c in first[:2]]
    neighbours = [Config(c.block, max(1, c.num_warps // 2), block_q=c.block_q) for c in first[:2]]
    return {"first": dedupe(first), "memory": dedupe(memory), "compute": dedupe(compute), "neighbours": dedupe(neighbours)}


def conv_spaces(s: Sizes, dtype: str) -> dict[str, list[Config]]:
    """Implicit-GEMM tiles: BLOCK_M output positions by BLOCK_N output channels (the launch fits
    both channel tiles to a group's channels: a depthwise tile is one channel wide), K steps of 32
    input channels. fp32 multiplies in 3xTF32 (fp32-level error), 16-bit on the tensor cores."""
    wide = dtype in ("bf16", "fp16")
    n = min(128, max(16, next_pow2(s.n)))
    half = max(16, n // 2)

    def c(bm: int, bn: int, bk: int, stages: int) -> Config:
        # 8 warps from a 128x64x32 step up: with 4, 3xTF32 tiles of 64x128x32, 128x32x32 and 64x64x64
        # spilled 72-132 bytes on sm_90 (ptxas; the gather's index math holds registers too)
        return _mm(bm, bn, bk, 8 if bm * max(bn, 64) * bk >= 128 * 64 * 32 else 4, stages, "ieee" if wide else "tf32x3")

    if s.n < 16:  # a group has fewer output channels than a dot tile (depthwise): longer tiles in M
        # (512 rows, or 256 with BLOCK_K=64, spilled 900-1500 bytes where the input channels take tl.dot)
        spaces = {"first": [c(256, 16, 32, 3), c(128, 16, 32, 3), c(64, 16, 32, 3)],
                  "compute": [c(128, 16, 64, 3), c(256, 16, 32, 2)], "memory": [c(128, 16, 32, 2), c(256, 16, 32, 4)],
                  "neighbours": [c(64, 16, 64, 3), c(128, 16, 32, 4)]}
        return {name: fitting(space, 2 if wide else 4) for name, space in spaces.items()}
    # No 256-row tile, no 128x128x64 fp32 tile: the gather's per-row index registers on top of the
    # accumulator spilled 40-2000 bytes there (ptxas for sm_90, conv2d_relu / conv2d_bn_relu_bf16).
    spaces = {"first": [c(128, n, 32, 3), c(64, n, 32, 3), c(128, half, 32, 3), c(64, half, 32, 3)],
              "compute": [c(128, n, 32, 4), c(64, n, 64, 4), c(128, half, 32, 4)],
              "memory": [c(64, n, 32, 2), c(64, half, 32, 2)],
              "neighbours": [c(32, n, 32, 3), c(64, 32, 32, 3)]}
    return {name: fitting(space, 2 if wide else 4) for name, space in spaces.items()}


def split_heavy(c: Config) -> Config:
    per_thread = c.block_m * c.block_n // (32 * c.num_warps)
    return dataclasses.replace(c, epilogue_split=2) if per_thread >= 128 and c.block_n >= 32 else c


SMEM_LIMIT = 227 * 1024  # bytes of shared memory one block may use on sm_90 (sm_80: 163 KB)


def smem_bytes(c: Config, element_bytes: int) -> int:
    """The pipeline's shared memory: one A and one B tile per stage."""
    return (c.num_stages or 3) * (c.block_m * c.block_k + c.block_k * c.block_n) * element_bytes


def fitting(space: list[Config], element_bytes: int, limit: int = SMEM_LIMIT) -> list[Config]:
    """The configs whose pipeline fits in shared memory; the smallest one if none does."""
    fit = [c for c in dedupe(space) if smem_bytes(c, element_bytes) <= limit]
    return fit or [min(space, key=lambda c: smem_bytes(c, element_bytes))]


def heavy_epilogue(t) -> bool:
    """A matmul epilogue with a transcendental or another tensor of the output's shape."""
    from kernelwright.agents.expert.expressions import walk

    cheap = {"relu", "neg", "abs", "clamp", "square"}
    return t.family == "matmul" and any((v.op == "un" and v.attr[0] not in cheap) or (v.op == "input" and v.cls == "full")
                                        for v in walk(t.out))


def spaces_for(t) -> dict[str, list[Config]]:
    return gpu_spaces(t.family, sizes_of(t), t.dtype, heavy_epilogue(t))


def configs_for(t, device: str) -> list[Config]:
    """Configurations to try, best guess first (the first space on a GPU)."""
    if device == "cpu":
        return cpu_configs(t.family, sizes_of(t))
    return spaces_for(t)["first"]


def default_config(t, device: str) -> Config:
    return configs_for(t, device)[0]
