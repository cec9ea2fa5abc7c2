"""Assemble a solution file from a traced problem: header, helpers, one kernel (with its
`@triton.heuristics` and, for several configs, `@triton.autotune` keyed on the sizes) and the
`ModelNew` whose constructor is the reference's own (same parameters under the same names).

The header states the family and every config as `KEY=VALUE` knobs (and the lessons that chose
them), so the debugger and the analyst can read back what a candidate tried.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import textwrap
from pathlib import Path

from kernelwright.agents.expert import matmul_codegen as mmc
from kernelwright.agents.expert.codegen import (
    COLS,
    ROWS,
    Emitter,
    LayoutArgs,
    _host_expr,
    _leaf_key,
    _leaves,
    _ptr_name,
    broadcasts,
    kernel_cols,
    kernel_elementwise,
    kernel_rows,
    kernel_scan,
    kernels_split,
    leaf_uses,
    splittable,
)
from kernelwright.agents.expert.configs import Config, default_config, parse_knobs
from kernelwright.agents.expert.expressions import HELPERS, reset_signatures, walk
from kernelwright.agents.expert.ir import UnsupportedProblem
from kernelwright.agents.expert.pool import POOL_HELPERS, POOL_HEURISTICS, forward_pool, kernel_pool
from kernelwright.agents.expert.space import Dim, Space, shape_host
from kernelwright.agents.expert.tracing import Traced, trace_problem
from kernelwright.tools import pyast

HEADER = "# kernelwright expert policy: family={family} tracer={tracer}\n"
_FAMILY = re.compile(r"# kernelwright expert policy: family=(\w+)")
_CONFIG = re.compile(r"^# config: (.+)$", re.M)

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


# The elementwise kernel's 2-D tile where an operand broadcasts (codegen.kernel_elementwise):
# BLOCK elements as BLOCK_R rows of BLOCK_C columns, no wider than the row needs.
TILE_2D = '''
def kw_tile_2d(block, n_cols):
    cols = min(block, triton.next_power_of_2(n_cols))
    return block // cols, cols

'''
TILE_HEURISTICS = ('{"BLOCK_R": lambda args: kw_tile_2d(args["BLOCK"], args["n_cols"])[0], '
                   '"BLOCK_C": lambda args: kw_tile_2d(args["BLOCK"], args["n_cols"])[1]}')


def read_header(source: str) -> tuple[str | None, list[Config]]:
    """(family, configs) stated in a generated solution's header; (None, []) for other files."""
    m = _FAMILY.search(source or "")
    if not m:
        return None, []
    family = m.group(1)
    return family, [c for line in _CONFIG.findall(source) for c in parse_knobs(line, family)]


def _init_source(problem_source: str) -> tuple[list[str], str]:
    """The problem's torch/math imports and its Model.__init__ (renamed), so ModelNew takes the same
    constructor arguments and builds the same parameters and buffers under the same names."""
    tree = pyast.parse(problem_source)
    imports = []
    init = None
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if all(m.split(".")[0] in ("torch", "math") for m in mods):
                imports.append(ast.get_source_segment(problem_source, node))
        if isinstance(node, ast.ClassDef) and node.name == "Model":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    init = item
    if init is None:
        return imports, "    def __init__(self):\n        super().__init__()\n"

    class Rename(ast.NodeTransformer):
        def visit_Name(self, n: ast.Name) -> ast.Name:
            return ast.copy_location(ast.Name(id="ModelNew", ctx=n.ctx), n) if n.id == "Model" else n

    init = Rename().visit(init)
    ast.fix_missing_locations(init)
    return imports, textwrap.indent(ast.unparse(init), "    ") + "\n"


# -- decorators and launches ------------------------------------------------------------------------

# The constexprs each family's configs set (the rest of a config is num_warps / num_stages).
CONFIG_KWARGS = {"elementwise": ("BLOCK",), "rows": ("BLOCK",), "cols": ("BLOCK", "BLOCK_Q"), "scan": ("BLOCK",), "pool": ("BLOCK",),
                 "matmul": ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M", "PRECISION", "EPILOGUE_SPLIT")}
AUTOTUNE_KEYS = {"elementwise": ["n_elements"], "rows": ["n_cols"], "cols": ["n_cols", "n_q"], "scan": ["n_cols"],
                 "pool": ["n_rows", "OW"],
                 "matmul": mmc.AUTOTUNE_KEY}
HEURISTICS = {"rows": '{"SINGLE": lambda args: args["n_cols"] <= args["BLOCK"]}',
              "cols": '{"SINGLE": lambda args: args["n_cols"] <= args["BLOCK"]}', "pool": POOL_HEURISTICS,
              "matmul": mmc.HEURISTICS}


def _config_kwargs(family: str, c: Config) -> dict[str, object]:
    knobs = c.knobs(family)
    kw = {k: knobs[k] for k in CONFIG_KWARGS[family] if k in knobs}
    if family == "matmul":
        kw["PRECISION"] = c.precision
        kw["EPILOGUE_SPLIT"] = c.epilogue_split
    return kw


def _launch_options(c: Config, family: str) -> str:
    stages = c.num_stages or (3 if family == "matmul" else None)
    return f"num_warps={c.num_warps}" + (f", num_stages={stages}" if stages else "")


def decorators(family: str, configs: list[Config], tiled: bool = False) -> str:
    """`tiled`: the elementwise kernel's 2-D form (keyed on rows and columns, tile from heuristics)."""
    out = []
    key = ["n_rows", "n_cols"] if tiled else AUTOTUNE_KEYS[family]
    if len(configs) > 1:
        rows = []
        for c in configs:
            kw = ", ".join(f"{k!r}: {v!r}" for k, v in _config_kwargs(family, c).items()).replace("'", '"')
            rows.append(f"    triton.Config({{{kw}}}, {_launch_options(c, family)}),")
        fit = {"rows": "kw_fit_rows", "cols": "kw_fit_rows", "scan": "kw_fit_rows", "matmul": "kw_fit_matmul"}.get(family)
        prune = f", prune_configs_by={{\"early_config_prune\": {fit}}}" if fit else ""
        out.append("@triton.autotune(configs=[\n" + "\n".join(rows) + f"\n], key={key!r}{prune})".replace("'", '"'))
    if family in HEURISTICS or tiled:
        out.append(f"@triton.heuristics({TILE_HEURISTICS if tiled else HEURISTICS[family]})")
    return "\n".join(out) + ("\n" if out else "")


def _fixed(family: str, c: Config) -> str:
    """The config as launch keyword arguments (a single-config candidate)."""
    kw = ", ".join(f"{k}={v!r}" for k, v in _config_kwargs(family, c).items()).replace("'", '"')
    return f"{kw}, {_launch_options(c, family)}"


# -- the whole file -----------------------------------------------------------------------------

@dataclasses.dataclass
class StageCode:
    kernel: str  # decorators and kernel(s)
    host_code: str  # host helpers the decorators and the launch call
    forward: list[str]  # forward lines from the inputs to `return kw_out`


def _stage_code(t: Traced, kname: str, configs: list[Config], device: str, used: set[str]) -> StageCode:
    leaves = _leaves(walk(t.out))
    leaf_args = [_host_expr(v) for v in leaves]
    if t.family == "pool":
        return _pool_code(t, kname, configs, used)
    if t.family == "matmul":
        ptrs = {_leaf_key(v): _ptr_name(v) for v in leaves}
        kernel = mmc.kernel_matmul(kname, t.out, ptrs, Emitter, used, mask_all=configs[0].masks == "all",
                                   split=any(c.epilogue_split == 2 for c in configs))
        fwd = _forward_matmul(t, kname, leaves, leaf_args, configs, device)
    else:
        axis_vars = {"elementwise": {"p": "rows", "r": "cols"}, "rows": ROWS.axis_vars, "cols": COLS.axis_vars,
                     "scan": ROWS.axis_vars}[t.family]
        layouts = LayoutArgs(t.space, axis_vars)
        build = {"elementwise": kernel_elementwise, "rows": kernel_rows, "cols": kernel_cols, "scan": kernel_scan}[t.family]
        kernel = build(kname, t, leaves, used, layouts)
        split = None
        if splittable(t):
            text, split = kernels_split(kname, t, leaves, used, layouts)
            kernel += "\n\n" + text
        fwd = _forward_rows_or_elementwise(t, kname, leaves, leaf_args, configs, layouts, split, device)
    # Host-side helpers the decorators and the forward call (config pruning, the 2-D tile).
    tiled = t.family == "elementwise" and broadcasts(leaf_uses(t.out))
    split_once = t.family == "matmul" and len(configs) == 1 and configs[0].epilogue_split == 2
    if tiled:
        host_code = TILE_2D
    elif len(configs) > 1 or split_once:  # split_once: kw_rows_aligned picks the split at the launch
        host_code = {"rows": ROWS_PRUNE, "cols": ROWS_PRUNE, "scan": ROWS_PRUNE, "matmul": MATMUL_PRUNE}.get(t.family, "")
    else:
        host_code = ""
    return StageCode(decorators(t.family, configs, tiled) + kernel, host_code, fwd)


def _pool_code(t: Traced, kname: str, configs: list[Config], used: set[str]) -> StageCode:
    pool = next(v for v in walk(t.out) if v.op == "pool")
    x = pool.args[0]
    rest = [v for v in _leaves(walk(t.out)) if _leaf_key(v) != _leaf_key(x)]
    ptrs = {_leaf_key(v): _ptr_name(v) for v in rest}
    em = Emitter(ptrs, {"full": "offs"}, used)
    kernel = kernel_pool(kname, t.out, pool.attr, em, "x_ptr", ptrs)
    spec, sp = pool.attr, t.space
    in_expr = shape_host(spec.in_shape, list(range(len(sp.dims))), sp)
    out_view = None
    if tuple(t.out_shape) != tuple(spec.out_shape):
        pooled = [(n, i) for i, n in enumerate(spec.out_shape) if n != 1]
        psp = Space(tuple(Dim(n, f"kw_out.shape[{i}]") for n, i in pooled), len(pooled), len(pooled))
        out_view = shape_host(tuple(t.out_shape), list(range(len(pooled))), psp), psp.host_tuple()
    if in_expr is None or (out_view is not None and out_view[0] is None):
        raise UnsupportedProblem(f"expert policy: no kernel for a pooling of {list(spec.in_shape)} in a stage over {list(t.main_shape)}")
    c = configs[0]
    dtype = f"torch.{c.out_dtype}" if c.out_dtype else "kw_x.dtype"
    fixed = None if len(configs) > 1 else (c.block, _launch_options(c, "pool"))
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    fwd += [f"kw_main = {_host_expr(x)}", f"kw_s = {sp.host_tuple()}  # the iteration space's dims"]
    fwd += forward_pool(spec, kname, _host_expr(x), [_host_expr(v) for v in rest], in_expr, out_view, dtype, fixed)
    deco = decorators("pool", configs, False)
    return StageCode(deco + kernel, TILE_2D + POOL_HELPERS, fwd)


def _file_head(problem_source: str) -> tuple[str, str]:
    imports, init = _init_source(problem_source)
    head = ["import math", "import os", "import torch", "import torch.nn as nn", "import torch.nn.functional as F", "import triton",
            "import triton.language as tl"]
    head += [imp for imp in imports if imp not in head]
    return "\n".join(head), init


def generate(t: Traced, problem_source: str, configs: Config | list[Config], device: str = "cpu",
             lessons: list[str] | None = None) -> str:
    """The solution source for `t` with one config (direct launch) or several (autotuned)."""
    configs = [configs] if isinstance(configs, Config) else list(configs)
    if not configs:
        raise ValueError("generate needs at least one config")
    reset_signatures()
    if t.stages:
        return _generate_stages(t, problem_source, configs, device, lessons)
    used: set[str] = set()
    code = _stage_code(t, f"kw_{t.family}_kernel", configs, device, used)
    head, init = _file_head(problem_source)
    helpers = "".join(HELPERS[h] for h in sorted(used))
    header = HEADER.format(family=t.family, tracer=t.tracer.replace("torch.", ""))
    header += "".join(f"# config: {c.text(t.family)}\n" for c in configs)
    if lessons:
        header += f"# lessons: {' '.join(lessons)}\n"
    what = f"{len(configs)} autotuned configs" if len(configs) > 1 else configs[0].text(t.family)
    doc = f'    """Generated by the kernelwright expert policy: {t.family} kernel, {what}."""\n\n'
    signature = ", ".join(["self", *t.inputs])
    return (
        header + head + "\n\n" + helpers + code.host_code + "\n\n"
        + code.kernel + "\n\n"
        + "class ModelNew(nn.Module):\n" + doc + init + "\n"
        + f"    def forward({signature}):\n" + textwrap.indent("\n".join(code.forward), "        ") + "\n"
    )


def _generate_stages(t: Traced, problem_source: str, configs: list[Config], device: str, lessons: list[str] | None) -> str:
    """A solution of several kernels, one per stage (see `pipeline`): each stage's launch code is a
    method of ModelNew; forward calls them in order, passing the temporaries along. The
    candidate's configs are the main stage's (`t`); the other stages take their family's default."""
    from kernelwright.agents.expert.configs import configs_for

    used: set[str] = set()
    kernels, host_codes, methods, calls = [], [], [], []
    for i, stage in enumerate(t.stages):
        mine = configs if i == t.stage_index else configs_for(stage, device)[: 1 if device == "cpu" else None]
        code = _stage_code(stage, f"kw_{stage.family}_kernel_s{i}", mine, device, used)
        kernels.append(code.kernel)
        if code.host_code and code.host_code not in host_codes:
            host_codes.append(code.host_code)
        methods.append(f"    def _kw_stage{i}({', '.join(['self', *stage.inputs])}):\n"
                       + textwrap.indent("\n".join(code.forward), "        ") + "\n")
        calls.append(f"kw_t{i} = self._kw_stage{i}({', '.join(stage.inputs)})")
    calls.append(f"return kw_t{len(t.stages) - 1}")
    head, init = _file_head(problem_source)
    helpers = "".join(HELPERS[h] for h in sorted(used))
    header = HEADER.format(family=t.family, tracer=t.tracer.replace("torch.", ""))
    header += f"# stages: {' '.join(s.family for s in t.stages)} (configs below: stage {t.stage_index})\n"
    header += "".join(f"# config: {c.text(t.family)}\n" for c in configs)
    if lessons:
        header += f"# lessons: {' '.join(lessons)}\n"
    doc = (f'    """Generated by the kernelwright expert policy: {len(t.stages)} kernels '
           f'({", ".join(s.family for s in t.stages)})."""\n\n')
    signature = ", ".join(["self", *t.model_inputs])
    return (
        header + head + "\n\n" + helpers + "".join(host_codes) + "\n\n"
        + "\n\n".join(kernels) + "\n\n"
        + "class ModelNew(nn.Module):\n" + doc + init + "\n" + "\n".join(methods) + "\n"
        + f"    def forward({signature}):\n" + textwrap.indent("\n".join(calls), "        ") + "\n"
    )


def _classic(t: Traced) -> bool:
    """The row is the main shape's last dim (the forms the first families were written with)."""
    sp, main = t.space, t.main_shape
    return (sp is not None and len(main) > 0 and main[-1] != 1 and sp.b == len(sp.dims) == sp.a + 1
            and sp.dims[-1].host == f"kw_main.shape[{len(main) - 1}]")


def _out_shape(t: Traced, classic: bool) -> str:
    main, out, sp = tuple(t.main_shape), tuple(t.out_shape), t.space
    if t.out.cls == "full":
        if out == main:
            return "kw_main.shape"
        dims = list(range(len(sp.dims)))
    else:
        if classic and out == main[:-1] + (1,):
            return "kw_main.shape[:-1] + (1,)"
        if classic and out == main[:-1]:
            return "kw_main.shape[:-1]"
        dims = [k for k in range(len(sp.dims)) if not sp.a <= k < sp.b]
    expr = shape_host(out, dims, sp)
    if expr is None:
        raise UnsupportedProblem(f"expert policy: no kernel for an output of shape {list(out)} over {list(main)}")
    return expr


# Few long rows run split over programs (codegen.kernels_split): (fewer rows than, rows at least
# this long, programs to aim for, shortest chunk, BLOCK, num_warps). On a GPU: under two rows per SM
# (132 on an H100), a row of 32K+ elements, ~8 programs per SM. On the CPU the interpreter prefers
# few programs; small thresholds there keep the path exercised at test sizes.
SPLIT_GPU = (264, 32768, 1056, 16384, 2048, 8)
SPLIT_CPU = (16, 64, 4, 64, 1024, 4)


def _forward_split(t: Traced, kname: str, leaf_args: list[str], extra: list[str], split: list[int], device: str) -> list[str]:
    few, long, target, shortest, block, warps = SPLIT_CPU if device == "cpu" else SPLIT_GPU
    bufs = [f"kw_buf{k}" for k in range(1, len(split) + 1)]
    args = ", ".join([*leaf_args, "kw_out", *bufs, *extra, "kw_n_cols", "kw_split", "kw_chunk"])
    lines = [f"if kw_rows < {few} and kw_n_cols >= {long}:  # few long rows: each row split over programs",
             f"    kw_split = min(triton.cdiv(kw_n_cols, {shortest}), max(1, {target} // kw_rows))",
             f"    kw_chunk = triton.cdiv(triton.cdiv(kw_n_cols, kw_split), {block}) * {block}",
             "    kw_split = triton.cdiv(kw_n_cols, kw_chunk)"]
    lines += [f"    {b} = torch.empty(kw_rows * kw_split * {n}, dtype=torch.float32, device=kw_main.device)"
              for b, n in zip(bufs, split)]
    for name in [f"{kname}_p{k}" for k in range(1, len(split) + 1)] + [f"{kname}_final"]:
        lines.append(f"    {name}[(kw_rows * kw_split,)]({args}, BLOCK={block}, SPLIT_P2=triton.next_power_of_2(kw_split), "
                     f"num_warps={warps})")
    return lines + ["    return kw_out"]


def _forward_rows_or_elementwise(t: Traced, kname: str, leaves, leaf_args: list[str], configs: list[Config],
                                 layouts: LayoutArgs, split: list[int] | None = None, device: str = "cpu") -> list[str]:
    full_inputs = [v for v in leaf_uses(t.out) if v.cls == "full" and v.op != "arg"]
    if not full_inputs:
        raise UnsupportedProblem("expert policy: no kernel for an output whose shape comes from broadcasting alone")
    main = next((v for v in full_inputs if v.op == "input"), full_inputs[0])
    sp = t.space
    classic = _classic(t)
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    fwd += [f"kw_main = {_host_expr(main)}"]
    if not classic or layouts.args:
        fwd.append(f"kw_s = {sp.host_tuple()}  # the iteration space's dims")
    fwd.append("kw_n_cols = kw_main.shape[-1]" if classic else f"kw_n_cols = {sp.prod_host(range(sp.a, sp.b))}")
    tuned = len(configs) > 1
    c = configs[0]
    out_dtype = c.out_dtype or t.out_dtype
    dtype = f"torch.{out_dtype}" if out_dtype else "kw_main.dtype"
    extra = list(layouts.host)
    if t.family == "elementwise" and broadcasts(leaf_uses(t.out)):
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_rows", "kw_n_cols"])
        fwd += [f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)",
                "kw_rows = kw_out.numel() // kw_n_cols"]
        block = 'META["BLOCK"]' if tuned else "BLOCK"
        grid = f"(triton.cdiv(kw_rows, kw_tile_2d({block}, kw_n_cols)[0]), triton.cdiv(kw_n_cols, kw_tile_2d({block}, kw_n_cols)[1]))"
        if tuned:
            fwd += [f"grid = lambda META: {grid}", f"{kname}[grid]({args})"]
        else:
            fwd += [f"BLOCK = {c.block}", f"grid = {grid}",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {_launch_options(c, 'elementwise')})"]
    elif t.family == "elementwise":
        args = ", ".join([*leaf_args, "kw_out", "kw_n", "kw_n_cols"])
        fwd += [f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)", "kw_n = kw_out.numel()"]
        if tuned:
            fwd += ['grid = lambda META: (triton.cdiv(kw_n, META["BLOCK"]),)', f"{kname}[grid]({args})"]
        else:
            fwd += [f"BLOCK = {c.block}", "grid = (triton.cdiv(kw_n, BLOCK),)",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {_launch_options(c, 'elementwise')})"]
    elif t.family == "scan":
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_n_cols"])
        fwd += ["kw_rows = kw_main.numel() // kw_n_cols",
                f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)", "grid = (kw_rows,)"]
        if tuned:
            fwd.append(f"{kname}[grid]({args})")
        else:
            fwd += [f"BLOCK = min(triton.next_power_of_2(kw_n_cols), {c.block})",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {_launch_options(c, 'rows')})"]
    elif t.family == "rows":
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_n_cols"])
        fwd += ["kw_rows = kw_main.numel() // kw_n_cols",
                f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)"]
        if split:
            fwd += _forward_split(t, kname, leaf_args, extra, split, device)
        fwd.append("grid = (kw_rows,)")
        if tuned:
            fwd.append(f"{kname}[grid]({args})")
        else:
            fwd += [f"BLOCK = min(triton.next_power_of_2(kw_n_cols), {c.block})",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, {_launch_options(c, 'rows')})"]
    else:  # cols: a reduction over a middle dim
        args = ", ".join([*leaf_args, "kw_out", *extra, "kw_n_cols", "kw_n_q"])
        fwd += [f"kw_n_q = {sp.prod_host(range(sp.b, len(sp.dims)))}", "kw_rows = kw_main.numel() // (kw_n_cols * kw_n_q)",
                f"kw_out = torch.empty({_out_shape(t, classic)}, dtype={dtype}, device=kw_main.device)"]
        if tuned:
            fwd += ['grid = lambda META: (kw_rows * triton.cdiv(kw_n_q, META["BLOCK_Q"]),)', f"{kname}[grid]({args})"]
        else:
            fwd += [f"BLOCK = min(triton.next_power_of_2(kw_n_cols), {c.block})", f"BLOCK_Q = {c.block_q}",
                    "grid = (kw_rows * triton.cdiv(kw_n_q, BLOCK_Q),)",
                    f"{kname}[grid]({args}, BLOCK=BLOCK, BLOCK_Q=BLOCK_Q, {_launch_options(c, 'rows')})"]
    return fwd + ["return kw_out"]


def _forward_matmul(t: Traced, kname: str, leaves, leaf_args: list[str], configs: list[Config], device: str) -> list[str]:
    fwd = [f"{name} = {name}.contiguous()" for name in t.inputs if name not in t.scalar_args]
    typed = [_host_expr(v) for v in leaves if v.cls in ("full", "col")]
    c0 = configs[0]
    fwd += mmc.host_matmul(t.matmul, typed, device, c0.out_dtype, c0.f32_dot)
    args = ", ".join(mmc.launch_args(leaf_args))
    if len(configs) > 1:
        fwd += ['grid = lambda META: ' + mmc.GRID.format(bm='META["BLOCK_M"]', bn='META["BLOCK_N"]'),
                f"{kname}[grid]({args}, F32_DOT=kw_f32_dot)"]
    else:
        c = configs[0]
        fixed = _fixed("matmul", c)
        if c.epilogue_split == 2:  # split only where the rows are 16-byte aligned (see MATMUL_PRUNE)
            fwd.append("kw_split = 2 if kw_rows_aligned(kw_a3, kw_b3, kw_out, kw_n) else 1")
            fixed = fixed.replace("EPILOGUE_SPLIT=2", "EPILOGUE_SPLIT=kw_split")
        fwd += [f"grid = {mmc.GRID.format(bm=c.block_m, bn=c.block_n)}",
                f"{kname}[grid]({args}, F32_DOT=kw_f32_dot, {fixed})"]
    return fwd + _view_as_out(t, tuple(t.main_shape))


def _view_as_out(t: Traced, allocated: tuple[int, ...]) -> list[str]:
    """`return kw_out`, viewed as the traced output where the graph ends in a view (unsqueeze, ...)."""
    if tuple(t.out_shape) in ((), allocated) or not t.out_shape:
        return ["return kw_out"]
    kept = [(n, i) for i, n in enumerate(allocated) if n != 1]
    view = shape_host(tuple(t.out_shape), list(range(len(kept))),
                      Space(tuple(Dim(n, f"kw_out.shape[{i}]") for n, i in kept), len(kept), len(kept)))
    if view is None:
        raise UnsupportedProblem(f"expert policy: no kernel for an output of shape {list(t.out_shape)} from {list(allocated)}")
    space = Space(tuple(Dim(n, f"kw_out.shape[{i}]") for n, i in kept), len(kept), len(kept))
    return [f"kw_s = {space.host_tuple()}", f"return kw_out.reshape({view})"]



def compile_problem(path: str | Path, config: Config | list[Config] | None = None, source: str | None = None,
                    device: str = "cpu") -> tuple[str, Traced]:
    """(solution source, traced problem) for the problem file at `path`; `source` is the problem's
    text at the sizes to tune for (e.g. its CPU sizes)."""
    t = trace_problem(path, source=source)
    text = source if source is not None else Path(path).read_text()
    return generate(t, text, config or default_config(t, device), device), t
