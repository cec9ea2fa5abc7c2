"""Trace a reference `Model` (torch.fx; torch.export where fx cannot) and lower it with
`lowering.Lowering` into a `Traced`: the IR plus what the planner and codegen need to know
(family, shapes, dtype, the matmul's or the convolution's spec)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

from kernelwright.agents.expert.conv_ir import ConvSpec
from kernelwright.agents.expert.ir import UnsupportedProblem, V, _as_list, load_problem_module
from kernelwright.agents.expert.lowering import Lowering
from kernelwright.agents.expert.lowering.runtime_dims import RuntimeDim, check_runtime_dim
from kernelwright.agents.expert.matmul_ir import MatmulSpec, is_matmul_node, op_name
from kernelwright.agents.expert.pipeline import StagePlan, plan_stages, stage_graph
from kernelwright.agents.expert.space import Space


@dataclasses.dataclass
class Traced:
    module: Any  # the problem module
    model: nn.Module
    gm: fx.GraphModule
    out: V
    inputs: list[str]
    main_shape: tuple[int, ...]  # the output's shape (for a matmul: [*batch, M, N])
    family: str  # "elementwise" | "rows" | "cols" | "scan" | "pool" | "matmul" | "conv"
    reductions: int
    dtype: str = "fp32"  # the output's dtype class: fp32 | bf16 | fp16 (lessons are filtered on it)
    matmul: MatmulSpec | None = None
    matmul_k: int = 0  # the reduction length of the matmul (for tuning)
    tracer: str = "torch.fx"  # or "torch.export" where fx could not trace the model
    space: Space | None = None  # the iteration space of the row, column and elementwise families
    scalar_args: list[str] = dataclasses.field(default_factory=list)  # inputs that are Python numbers
    out_shape: tuple[int, ...] = ()  # the output's traced shape
    out_dtype: str | None = None  # a torch dtype name where the output is not a float (argmax: int64)
    # Several kernels (see `pipeline`): every stage, in order; this record is stages[stage_index]
    # (the one a candidate's configs tune: the matmul or convolution, else the largest), with the
    # model's inputs.
    stages: list[Traced] = dataclasses.field(default_factory=list)
    stage_index: int = 0
    model_inputs: list[str] = dataclasses.field(default_factory=list)
    # Values of the model (`self.dim`, `self.act.negative_slope`) the kernel was specialised to:
    # ModelNew.forward checks each still holds (host expression -> traced value).
    fixed: dict[str, int | float] = dataclasses.field(default_factory=dict)
    conv: ConvSpec | None = None
    # The reduction's dim where the model gives it as an attribute the kernel follows at run time
    # (`lowering.runtime_dims`): the forward computes the split from it, not from the traced space.
    runtime_dim: RuntimeDim | None = None


def _build(module) -> tuple[nn.Module, list]:
    """The reference model and inputs: on the meta device (shapes only, nothing computed), or on
    the CPU where a problem does not build on meta (explicit devices, data-dependent init)."""
    errors = []
    for device in ("meta", "cpu"):
        try:
            with torch.device(device):
                model = module.Model(*_as_list(module.get_init_inputs()))
                inputs = _as_list(module.get_inputs())
            return model.eval(), inputs
        except Exception as exc:  # noqa: BLE001 - reported below if no device works
            errors.append(f"{device}: {type(exc).__name__}: {exc}")
    raise UnsupportedProblem("expert policy: cannot build the reference model and inputs (" + "; ".join(errors) + ")")


Number = int | float


def scalar_attributes(model: nn.Module) -> dict[str, Number]:
    """The model's own Python numbers (`self.scale = scale`, usually constructor arguments): a
    value variant of the problem changes them, so the kernel must read them at run time."""
    return {name: value for name, value in vars(model).items()
            if not name.startswith("_") and isinstance(value, (int, float)) and not isinstance(value, bool)}


class _AttributeTracer(fx.Tracer):
    """symbolic_trace, with the model's scalar attributes `live` read as graph values.

    fx records only what flows through proxies; a float in the instance's __dict__ is a plain
    Python number to it and ends up a literal in the graph (the kernel would bake it). Here each
    live attribute is, for the trace, a proxy of a `get_attr` node, so `x * self.scale` and even
    `self.scale * 2` become nodes the lowering turns into kernel arguments read from `self`."""

    def __init__(self, live: tuple[str, ...]):
        super().__init__()
        self.live = live

    def create_args_for_root(self, root_fn, is_module, concrete_args=None):
        out = super().create_args_for_root(root_fn, is_module, concrete_args)
        for name in self.live:
            self.root.__dict__[name] = self.create_proxy("get_attr", name, (), {})
        return out


def _trace_fx(model: nn.Module, live: tuple[str, ...]) -> fx.GraphModule:
    saved = {name: model.__dict__[name] for name in live}
    try:
        graph = _AttributeTracer(live).trace(model)
    finally:
        model.__dict__.update(saved)
    return fx.GraphModule(model, graph, type(model).__name__)


def _fx_graph(model: nn.Module, inputs: list, live: tuple[str, ...] = ()) -> fx.GraphModule:
    from torch.fx.passes.shape_prop import ShapeProp

    from kernelwright.agents.expert.decompose import decompose

    gm = _trace_fx(model, live)
    ShapeProp(gm).propagate(*inputs)
    if decompose(gm):
        ShapeProp(gm).propagate(*inputs)
    return gm


def _export_graph(model: nn.Module, inputs: list) -> fx.GraphModule:
    """torch.export at the shipped sizes: it follows Python control flow on shapes and sizes that
    symbolic tracing cannot. The unlifted module keeps parameters as get_attr nodes under their
    names, and every node carries its tensor_meta."""
    ep = torch.export.export(model, tuple(inputs), strict=False)
    return ep.module()


DTYPE_CLASS = {torch.bfloat16: "bf16", torch.float16: "fp16"}


def trace_problem(path: str | Path, source: str | None = None) -> Traced:
    """Load, trace and lower the problem's Model; raises UnsupportedProblem for what it cannot do.
    `source` (the problem text with other size constants) replaces the file's text."""
    module = load_problem_module(path, source=source)
    for need in ("Model", "get_inputs", "get_init_inputs"):
        if not hasattr(module, need):
            raise UnsupportedProblem(f"expert policy: the problem defines no {need}")
    model, inputs = _build(module)
    scalars = scalar_attributes(model)
    traced = _trace_and_lower(module, model, inputs, ())
    if not scalars:
        return traced
    if traced.tracer != "torch.fx":
        # torch.export bakes every attribute into the graph: one whose change changes the graph is
        # checked at run time
        base = _export_graph(model, inputs).code  # traced.gm may have been rewritten by the lowering
        fixed = {f"self.{n}": v for n, v in scalars.items() if _export_depends(model, inputs, base, n)}
        return dataclasses.replace(traced, fixed={**traced.fixed, **fixed})
    # Every scalar attribute read at run time where the kernel can take it as an argument (a
    # reduction's dim where the host can split around it, see `lowering.runtime_dims`); one that
    # decides structure (another dim, a count, control flow) stays as traced, and ModelNew checks
    # at run time that it still has the traced value (a loud error, never a wrong result).
    try:
        return _trace_and_lower(module, model, inputs, tuple(scalars))
    except Exception:  # noqa: BLE001 - some attribute cannot be live: find which, one at a time
        pass
    live: list[str] = []
    for name in scalars:
        try:
            traced = _trace_and_lower(module, model, inputs, (*live, name))
            live.append(name)
        except Exception:  # noqa: BLE001 - this one stays specialised (and checked)
            continue
    fixed = {f"self.{n}": v for n, v in scalars.items() if n not in live}
    return dataclasses.replace(traced, fixed={**traced.fixed, **fixed})


def _export_depends(model: nn.Module, inputs: list, base_code: str, name: str) -> bool:
    """Whether the exported graph changes with the attribute `name` (traced again at another value)."""
    saved = model.__dict__[name]
    model.__dict__[name] = saved + 1 if isinstance(saved, int) else saved * 0.75 + 0.125
    try:
        return _export_graph(model, inputs).code != base_code
    except Exception:  # noqa: BLE001 - the graph cannot even be traced at the other value: it depends on it
        return True
    finally:
        model.__dict__[name] = saved


def _trace_and_lower(module, model: nn.Module, inputs: list, live: tuple[str, ...]) -> Traced:
    """Trace and lower with the scalar attributes `live` as run-time values; the kernel (of every
    stage) must generate too, so a live attribute that only codegen cannot take counts as failed."""
    from kernelwright.agents.expert.configs import default_config
    from kernelwright.agents.expert.solution import generate

    tracer = "torch.fx"
    try:
        gm = _fx_graph(model, inputs, live)
    except Exception as fx_exc:  # fx cannot trace control flow on sizes and the like; export can
        if live:
            raise
        try:
            gm, tracer = _export_graph(model, inputs), "torch.export"
        except Exception as exc:  # noqa: BLE001 - both tracers' reasons go to the user
            raise UnsupportedProblem(
                f"expert policy: cannot trace the model (torch.fx: {type(fx_exc).__name__}: {_first_line(fx_exc)}; "
                f"torch.export: {type(exc).__name__}: {_first_line(exc)})") from exc
    try:
        traced = lower_graph(module, model, gm, inputs, tracer)
    except UnsupportedProblem as whole:
        try:
            traced = lower_stages(module, model, gm, inputs, tracer)
        except UnsupportedProblem as staged:
            raise staged if "no stage split" not in str(staged) else whole from None
    if live:
        generate(traced, "", default_config(traced, "cuda"), "cuda")
    return traced


ALIASES = frozenset({"clone", "detach", "contiguous"})


def _drop_aliases(gm: fx.GraphModule) -> None:
    """`x.clone().detach()` of an input is the input: no stage should copy it."""
    for node in list(gm.graph.nodes):
        if node.op in ("call_method", "call_function") and op_name(node.target) in ALIASES and node.args \
                and isinstance(node.args[0], fx.Node) and node.args[0].op == "placeholder" and len(node.args) == 1:
            node.replace_all_uses_with(node.args[0])
            gm.graph.erase_node(node)
    gm.recompile()


def lower_stages(module, model: nn.Module, gm: fx.GraphModule, inputs: list, tracer: str) -> Traced:
    """The graph as a sequence of kernels (see `pipeline`)."""
    from kernelwright.agents.expert.configs import default_config
    from kernelwright.agents.expert.solution import generate

    _drop_aliases(gm)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    example = {n: inputs[i] for i, n in enumerate(placeholders) if i < len(inputs)}
    lowered: dict[int, Traced] = {}

    def try_stage(plan: StagePlan, names) -> bool:
        t = lower_graph(module, model, stage_graph(gm, plan, names), [example.get(n) for n in plan.inputs], tracer)
        generate(t, "", default_config(t, "cuda"), "cuda")  # the stage's kernel must generate too
        lowered[id(plan)] = t
        return True

    plans = plan_stages(gm, try_stage)
    stages = [lowered[id(p)] for p in plans]
    if any(s.runtime_dim is not None for s in stages[:-1]):  # later stages were built for the traced dim's shape
        raise UnsupportedProblem("expert policy: a reduction over a dim read at run time feeds another stage")
    if len(stages) == 1:
        return stages[0]
    main = next((i for i, s in enumerate(stages) if s.family in ("matmul", "conv")),
                max(range(len(stages)), key=lambda i: (math.prod(stages[i].main_shape), stages[i].reductions)))
    last = stages[-1]
    fixed = {k: v for s in stages for k, v in s.fixed.items()}
    return dataclasses.replace(stages[main], stages=stages, stage_index=main, model_inputs=[str(n.target) for n in placeholders],
                               out_shape=last.out_shape, out_dtype=last.out_dtype, fixed=fixed)


def lower_graph(module, model: nn.Module, gm: fx.GraphModule, inputs: list, tracer: str) -> Traced:
    lw = Lowering(model, gm, inputs)
    out = lw.run()
    space = lw.space
    if lw.matmuls:
        family = "matmul"
    elif lw.convs:
        family = "conv"
    elif lw.scans:
        family = "scan"
    elif lw.pools:
        family = "pool"
    elif lw.reductions:
        family = "cols" if space is not None and space.b < len(space.dims) else "rows"
    else:
        family = "elementwise"
    out_node = next(n for n in gm.graph.nodes if n.op == "output")
    dtype, out_shape, out_dtype = "fp32", (), None
    for n in out_node.all_input_nodes[:1]:
        meta = n.meta.get("tensor_meta")
        dtype = DTYPE_CLASS.get(getattr(meta, "dtype", None), "fp32")
        out_shape = tuple(getattr(meta, "shape", ()))
        if getattr(meta, "dtype", None) is not None and not meta.dtype.is_floating_point:
            out_dtype = str(meta.dtype).removeprefix("torch.")
    mm = next((v for v in _walk_values(out) if v.op == "matmul"), None)
    conv = next((v.attr for v in _walk_values(out) if v.op == "conv"), None)
    runtime_dim = check_runtime_dim(lw.dims_used, out, family, tuple(lw.main_shape), out_shape)
    return Traced(module, model, gm, out, lw.inputs, tuple(lw.main_shape), family, lw.reductions, dtype,
                  mm.attr if mm is not None else None, _matmul_k(gm) if mm is not None else 0, tracer,
                  space, list(lw.scalar_args), out_shape, out_dtype, fixed=dict(lw.fixed), conv=conv,
                  runtime_dim=runtime_dim)


def _first_line(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[0][:200] if lines else ""


def _walk_values(out: V):
    seen, stack = set(), [out]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        yield v
        stack.extend(v.args)


def _matmul_k(gm: fx.GraphModule) -> int:
    """K of the (single) matmul: the last dim of its first operand's fx node."""
    for n in gm.graph.nodes:
        if is_matmul_node(gm, n):
            first = n.args[0] if n.args else None
            if op_name(n.target) in ("addmm", "baddbmm", "einsum") and len(n.args) > 1:
                first = n.args[1]
            meta = first.meta.get("tensor_meta") if isinstance(first, fx.Node) else None
            return int(meta.shape[-1]) if meta is not None else 0
    return 0
