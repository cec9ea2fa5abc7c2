"""Lower a traced reference `Model` (see `tracing`) to the expert's expression IR (`ir.V`).

The IR covers what the expert codegen can emit: elementwise math over tensors that share the
output's shape ("full"), vectors along the reduced dims ("col", e.g. a LayerNorm weight),
scalars, operands broadcast along other dims ("bcast" / "rbcast", read through a layout over the
stage's iteration space, see `space`), and one reduction structure per kernel: over any block of
consecutive dims ("row": one value per row, kept dims; "rowflat": the same without them).
Anything else is collected by name and reported through `UnsupportedProblem`.

The walk runs twice: a first pass finds the reduction's dims and how each operand of another
shape is broadcast (to build the stage's `Space`), the second lowers against that space.
`Lowering` holds the walk and its state; its builders come from the mixins `values`,
`reductions` and `modules`, the handlers of functions and methods from `ops`.
"""

from __future__ import annotations

import math
from typing import Any

import torch.fx as fx
import torch.nn as nn

from kernelwright.agents.expert.conv_ir import is_conv_node
from kernelwright.agents.expert.ir import UnsupportedProblem, V, unsupported_label
from kernelwright.agents.expert.lowering.modules import ModuleLowering, module_host
from kernelwright.agents.expert.lowering.reductions import ReductionBuilder
from kernelwright.agents.expert.lowering.runtime_dims import DimsUsed, RuntimeDimBuilder
from kernelwright.agents.expert.lowering.values import ValueBuilder
from kernelwright.agents.expert.matmul_ir import is_matmul_node, lower_matmul_call, op_name
from kernelwright.agents.expert.ops import FUNCS
from kernelwright.agents.expert.space import Space, layout_of, make_space


class Lowering(ValueBuilder, ReductionBuilder, RuntimeDimBuilder, ModuleLowering):
    def __init__(self, model: nn.Module, gm: fx.GraphModule, example_inputs: list | None = None):
        self.model = model
        self.gm = gm
        self.example_inputs = list(example_inputs or [])
        self.unsupported: list[str] = []
        self.main_shape: tuple[int, ...] | None = None
        self.inputs: list[str] = []  # placeholder names, in order
        self.input_shapes: dict[str, tuple[int, ...]] = {}
        self.scalar_args: list[str] = []  # inputs that are Python numbers (kernel arguments)
        self.reductions = 0
        self.scans = 0
        self.pools: list = []  # PoolSpec of the stage's pooling (at most one)
        self.matmuls = 0
        self.convs = 0
        self.argreduce = False  # the output is an index (argmax / argmin)
        # "matmul" or "convolution" where the stage is one (a GEMM with its elementwise epilogue
        # fused): the output's shape is the GEMM's; tensors that are neither of that shape nor
        # broadcast to it may still be its operands ("operand" class).
        self.gemm: str | None = None
        self.space: Space | None = None
        self.node: fx.Node | None = None  # the node being lowered (its shapes are in its meta)
        # First pass: the reduction structure (numel, R*Q, Q, named cuts) and operand uses.
        self.discovering = False
        self.structure: tuple[int, int, int, dict[int, str]] | None = None
        self.leaf_uses: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        # Hyperparameters of submodules baked into the kernel (`self.act.negative_slope` -> 0.01):
        # the generated forward checks they still hold.
        self.fixed: dict[str, int | float] = {}
        # The reductions' dims: literals or one read from an attribute at run time (`runtime_dims`).
        self.dims_used = DimsUsed()

    def run(self) -> V:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        shapes = []
        for i, n in enumerate(placeholders):
            meta = n.meta.get("tensor_meta")
            if meta is None or not hasattr(meta, "shape"):
                if not _is_number(self.example_inputs[i] if i < len(self.example_inputs) else None):
                    self.bad(f"non-tensor input {n.target}")
                continue
            shapes.append(tuple(meta.shape))
        if not shapes:
            raise UnsupportedProblem("expert policy: no kernel for a model without tensor inputs")
        self.main_shape = max(shapes, key=math.prod)
        first_gemm = next((n for n in self.gm.graph.nodes if is_matmul_node(self.gm, n) or is_conv_node(self.gm, n)), None)
        if first_gemm is not None and first_gemm.meta.get("tensor_meta") is not None:
            self.gemm = "convolution" if is_conv_node(self.gm, first_gemm) else "matmul"
            self.main_shape = tuple(first_gemm.meta["tensor_meta"].shape)
        if len(self.main_shape) == 0:
            self.bad("0-d tensor inputs")
        if self.gemm:
            return self.walk()
        # First pass: which dims the reduction covers and how operands broadcast; errors are
        # reported by the second pass, which lowers against the space built in between.
        saved = list(self.unsupported)
        self.discovering = True
        try:
            self.walk()
        except UnsupportedProblem:
            pass
        self.discovering = False
        self.unsupported, self.inputs, self.input_shapes, self.scalar_args = saved, [], {}, []
        self.reductions, self.scans, self.argreduce, self.pools = 0, 0, False, []
        self.dims_used = DimsUsed()
        self.space = self.plan_space()
        return self.walk()

    def plan_space(self) -> Space:
        main = tuple(self.main_shape)
        if self.structure is None:  # elementwise: split where every operand varies along all columns or none
            prelim = make_space(main)
            n = len(prelim.dims)
            every = list(range(n))
            layouts = [layout_of(shape, ctx, every, prelim) for shape, ctx in self.leaf_uses
                       if math.prod(ctx) == prelim.numel]
            layouts = [set(x) for x in layouts if x is not None]
            a = max(n - 1, 0)
            broadcast = any(x and x != set(every) for x in layouts)
            while broadcast and a > 0 and all(not (x & set(range(a - 1, n))) or set(range(a - 1, n)) <= x for x in layouts):
                a -= 1
            return Space(prelim.dims, a, n)
        numel, rq, q, named = self.structure
        if numel != math.prod(main):
            raise UnsupportedProblem(f"expert policy: no kernel for a reduction of a tensor of {numel} elements in a stage "
                                     f"over {list(main)} (another size)")
        return make_space(main, cuts=(rq, q), axes=(rq, q), named_cuts=named)

    def walk(self) -> V:
        env: dict[fx.Node, Any] = {}
        result = None
        position = 0
        for node in self.gm.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                self.inputs.append(node.target)
                meta = node.meta.get("tensor_meta")
                example = self.example_inputs[position] if position < len(self.example_inputs) else None
                position += 1
                if meta is None or not hasattr(meta, "shape"):
                    if _is_number(example):  # a Python number: a scalar kernel argument
                        self.scalar_args.append(node.target)
                        env[node] = V("arg", attr=node.target, cls="scalar")
                    else:
                        env[node] = None
                    continue
                if meta.dtype.is_complex:
                    self.bad(f"input {node.target} of dtype {meta.dtype}")
                self.input_shapes[node.target] = tuple(meta.shape)
                env[node] = self.leaf("input", node.target, tuple(meta.shape), f"input {node.target}")
            elif node.op == "get_attr":
                number = _number_attr(self.gm, node.target)
                if number is not None:  # a scalar attribute of the model (see tracing): read at run time
                    env[node] = V("arg", attr=module_host(node.target), cls="scalar")
                else:
                    env[node] = self.param(node.target, f"attribute {node.target}")
            elif node.op == "output":
                out = node.args[0]
                if isinstance(out, (tuple, list)) and len(out) == 1:  # torch.export returns a tuple
                    out = out[0]
                result = env.get(out) if isinstance(out, fx.Node) else None
                if not isinstance(out, fx.Node):
                    self.bad("several outputs")
                elif isinstance(result, V) and result.cls == "leaf":
                    meta = out.meta.get("tensor_meta")
                    result = self.resolve(result, tuple(meta.shape) if meta is not None else None, "the output")
            elif node.op == "call_module" and not node.users and str(node.target).startswith("_guards"):
                continue  # torch.export's shape guard: checks, computes nothing
            else:
                args = fx.node.map_arg(node.args, lambda n: env.get(n))
                kwargs = fx.node.map_arg(node.kwargs, lambda n: env.get(n))
                if _has_missing(node, env):
                    env[node] = None  # an input was unsupported: reported already
                    continue
                env[node] = self.lower(node, tuple(args), dict(kwargs))
        self.node = None
        if self.pools and (self.reductions or self.scans or len(self.pools) > 1):
            self.bad("a pooling with another pooling, a scan or a reduction in one kernel")
        if self.scans and (self.reductions or self.scans > 1 or (self.space and self.space.b < len(self.space.dims))):
            self.bad("a scan with another scan or a reduction in one kernel, or along a middle dim")
        if self.unsupported:
            raise UnsupportedProblem("expert policy: no kernel for " + " / ".join(self.unsupported))
        if not isinstance(result, V):
            raise UnsupportedProblem("expert policy: no kernel for an output that is not a single tensor")
        if result.cls not in ("full", "row", "rowflat"):
            raise UnsupportedProblem(f"expert policy: no kernel for an output of class {result.cls} (it does not depend on the input rows)")
        return result

    def lower(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        if node.op == "call_module":
            mod = self.gm.get_submodule(node.target)
            return self.lower_module(node.target, mod, args, kwargs)
        if node.op == "call_method":
            name, label = node.target, f"Tensor.{node.target}"
        elif hasattr(node.target, "overloadpacket"):  # an aten op of a torch.export graph
            name = op_name(node.target)
            label = f"aten.{name}"
        else:
            target = node.target
            name = getattr(target, "__name__", str(target))
            modname = getattr(target, "__module__", "") or ""
            if target is getattr:
                name = "getattr"
            if modname in ("_operator", "operator"):
                label = f"operator.{name}"
            elif modname.startswith("torch.nn.functional") or modname.startswith("torch._C._nn"):
                label = f"F.{name}"
            else:
                label = f"torch.{name}"
        if name in ("linear", "matmul", "mm", "bmm", "addmm", "baddbmm"):
            return lower_matmul_call(self, name, args, kwargs, label)
        handler = FUNCS.get(name.rstrip("_") if name.endswith("_") and not name.startswith("_") else name)
        if handler is None:
            self.bad(unsupported_label(label, name))
            return None
        out = handler(self, args, kwargs, label)
        return out


def _number_attr(gm: nn.Module, path: str) -> int | float | None:
    owner, _, name = path.rpartition(".")
    try:
        value = getattr(gm.get_submodule(owner) if owner else gm, name)
    except AttributeError:
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _has_missing(node: fx.Node, env: dict) -> bool:
    return any(env.get(n) is None and n in env for n in node.all_input_nodes)
