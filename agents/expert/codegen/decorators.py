"""What goes above a kernel and beside it in the solution file: `@triton.autotune` over a
candidate's configs (keyed on the sizes, with a pruning function where a config may not fit) and
`@triton.heuristics` (SINGLE for the row kernels, the 2-D tile, EVEN_K), the host helpers those
call, and a single config as launch keyword arguments."""

from __future__ import annotations

from kernelwright.agents.expert.codegen import conv as convc
from kernelwright.agents.expert.codegen import matmul as mmc
from kernelwright.agents.expert.codegen.pool import POOL_HEURISTICS
from kernelwright.agents.expert.configs import Config

ROWS_PRUNE = '''
def kw_fit_rows(configs, named_args, **kwargs):
    # A block much longer than the row only adds masked lanes.
    need = triton.next_power_of_2(named_args["n_cols"])
    fit = [c for c in configs if c.kwargs["BLOCK"] <= need]
    return fit or [min(configs, key=lambda c: c.kwargs["BLOCK"])]

'''


# A split epilogue (EPILOGUE_SPLIT=2) only where every row starts on a 16-byte boundary. Otherwise
# Triton cannot copy the tiles asynchronously (no cp.async): the loads go through registers and a
# split epilogue spills heavily (sm_90 compile at 2559x2559x2559 bf16: 3-6.5 KB per thread against
# 68-1024 B unsplit), and it is the GPU-only feature in the configs that failed at odd sizes.
MATMUL_PRUNE = '''
def kw_rows_aligned(a, b, out, N):
    # Every row of A, B and the output (and the epilogue's tiles) starts on a 16-byte boundary.
    rows = all(s == 1 or s * t.element_size() % 16 == 0 for t in (a, b) for s in t.stride()[1:])
    return rows and N * out.element_size() % 16 == 0


def kw_fit_matmul(configs, named_args, **kwargs):
    if kw_rows_aligned(named_args["a_ptr"], named_args["b_ptr"], named_args["out_ptr"], named_args["N"]):
        return configs
    out, seen = [], set()
    for c in configs:
        kw = {**c.kwargs, "EPILOGUE_SPLIT": 1}
        key = (tuple(sorted(kw.items())), c.num_warps, c.num_stages)
        if key not in seen:
            seen.add(key)
            out.append(triton.Config(kw, num_warps=c.num_warps, num_stages=c.num_stages))
    return out

'''


# The elementwise kernel's 2-D tile where an operand broadcasts (`elementwise.kernel_elementwise`):
# BLOCK elements as BLOCK_R rows of BLOCK_C columns, no wider than the row needs.
TILE_2D = '''
def kw_tile_2d(block, n_cols):
    cols = min(block, triton.next_power_of_2(n_cols))
    return block // cols, cols

'''


TILE_HEURISTICS = ('{"BLOCK_R": lambda args: kw_tile_2d(args["BLOCK"], args["n_cols"])[0], '
                   '"BLOCK_C": lambda args: kw_tile_2d(args["BLOCK"], args["n_cols"])[1]}')


# The constexprs each family's configs set (the rest of a config is num_warps / num_stages).
CONFIG_KWARGS = {"elementwise": ("BLOCK",), "rows": ("BLOCK",), "cols": ("BLOCK", "BLOCK_Q"), "scan": ("BLOCK",), "pool": ("BLOCK",),
                 "matmul": ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M", "PRECISION", "EPILOGUE_SPLIT"),
                 "conv": ("BLOCK_M", "BLOCK_N", "BLOCK_K", "PRECISION")}


AUTOTUNE_KEYS = {"elementwise": ["n_elements"], "rows": ["n_cols"], "cols": ["n_cols", "n_q"], "scan": ["n_cols"],
                 "pool": ["n_rows", "OW"],
                 "matmul": mmc.AUTOTUNE_KEY, "conv": convc.AUTOTUNE_KEY}


HEURISTICS = {"rows": '{"SINGLE": lambda args: args["n_cols"] <= args["BLOCK"]}',
              "cols": '{"SINGLE": lambda args: args["n_cols"] <= args["BLOCK"]}', "pool": POOL_HEURISTICS,
              "matmul": mmc.HEURISTICS, "conv": convc.HEURISTICS}


TILED = ("matmul", "conv")  # the tl.dot families: tiles, pipeline stages and a dot precision


def _config_kwargs(family: str, c: Config) -> dict[str, object]:
    knobs = c.knobs(family)
    kw = {k: knobs[k] for k in CONFIG_KWARGS[family] if k in knobs}
    if family in TILED:
        kw["PRECISION"] = c.precision
    if family == "matmul":
        kw["EPILOGUE_SPLIT"] = c.epilogue_split
    return kw


def launch_options(c: Config, family: str) -> str:
    stages = c.num_stages or (3 if family in TILED else None)
    return f"num_warps={c.num_warps}" + (f", num_stages={stages}" if stages else "")


def decorators(family: str, configs: list[Config], tiled: bool = False) -> str:
    """`tiled`: the elementwise kernel's 2-D form (keyed on rows and columns, tile from heuristics)."""
    out = []
    key = ["n_rows", "n_cols"] if tiled else AUTOTUNE_KEYS[family]
    if len(configs) > 1:
        rows = []
        for c in configs:
            kw = ", ".join(f"{k!r}: {v!r}" for k, v in _config_kwargs(family, c).items()).replace("'", '"')
            rows.append(f"    triton.Config({{{kw}}}, {launch_options(c, family)}),")
        fit = {"rows": "kw_fit_rows", "cols": "kw_fit_rows", "scan": "kw_fit_rows", "matmul": "kw_fit_matmul"}.get(family)
        prune = f", prune_configs_by={{\"early_config_prune\": {fit}}}" if fit else ""
        out.append("@triton.autotune(configs=[\n" + "\n".join(rows) + f"\n], key={key!r}{prune})".replace("'", '"'))
    if family in HEURISTICS or tiled:
        out.append(f"@triton.heuristics({TILE_HEURISTICS if tiled else HEURISTICS[family]})")
    return "\n".join(out) + ("\n" if out else "")


def fixed_launch(family: str, c: Config) -> str:
    """The config as launch keyword arguments (a single-config candidate)."""
    kw = ", ".join(f"{k}={v!r}" for k, v in _config_kwargs(family, c).items()).replace("'", '"')
    return f"{kw}, {launch_options(c, family)}"
