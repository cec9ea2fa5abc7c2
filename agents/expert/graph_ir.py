"""Lower a traced reference `Model` (see `tracing`) to a tiny expression IR.

The IR covers what the expert codegen can emit: elementwise math over tensors that share the
output's shape ("full"), last-dim vectors ("col", e.g. a LayerNorm weight), scalars, and
reductions over the last dimension ("row": one value per row, kept as [..., 1]; "rowflat": the
same without the kept dim). Composite ops (softmax, layer_norm, ...) are decomposed into these
primitives, so one codegen handles every row pattern. Anything else is collected by name and
reported through `UnsupportedProblem`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

from kernelwright.agents.expert.ir import (  # noqa: F401 - re-exported
    _CONST_FOLD,
    ATEN_NAMES,
    UnsupportedProblem,
    V,
    _as_list,
    _bind,
    _merge,
    load_problem_module,
)
from kernelwright.agents.expert.matmul_ir import (
    is_matmul_node,
    lower_linear_module,
    lower_matmul_call,
    op_name,
)
from kernelwright.agents.expert.ops import FUNCS


class Lowering:
    def __init__(self, model: nn.Module, gm: fx.GraphModule):
        self.model = model
        self.gm = gm
        self.unsupported: list[str] = []
        self.main_shape: tuple[int, ...] | None = None
        self.inputs: list[str] = []  # placeholder names, in order
        self.input_shapes: dict[str, tuple[int, ...]] = {}
        self.reductions = 0
        self.matmuls = 0
        # With a matmul, the output's shape is the matmul's; tensors that are neither of that
        # shape nor broadcast to it may still be matmul operands ("operand" class).
        self.matmul_mode = False

    # -- helpers ---------------------------------------------------------------------------
    def bad(self, what: str) -> None:
        if what not in self.unsupported:
            self.unsupported.append(what)

    def const(self, c) -> V:
        return V("const", attr=float(c), cls="scalar")

    def val(self, x) -> V | None:
        if isinstance(x, V):
            return x
        if isinstance(x, bool):
            return self.const(float(x))
        if isinstance(x, (int, float)):
            return self.const(x)
        return None

    def un(self, fn: str, a: V, **params) -> V:
        return V("un", (a,), (fn, params), a.cls)

    def bin(self, fn: str, a, b, what: str = "") -> V | None:
        a, b = self.val(a), self.val(b)
        if a is None or b is None:
            self.bad(what or f"{fn} with a non-numeric operand")
            return None
        if a.op == "const" and b.op == "const" and fn in _CONST_FOLD:
            return self.const(_CONST_FOLD[fn](a.attr, b.attr))
        cls = _merge(a.cls, b.cls)
        if "operand" in (a.cls, b.cls):
            self.bad(f"{what or fn} of a transposed tensor or a tensor of another shape than the matmul's output "
                     "(only matmul operands may be transposed)")
            return None
        if cls is None:
            self.bad(f"{what or fn}: broadcast of a {a.cls} value with a {b.cls} value")
            return None
        return V("bin", (a, b), fn, cls)

    def add(self, a, b):
        return self.bin("add", a, b)

    def sub(self, a, b):
        return self.bin("sub", a, b)

    def mul(self, a, b):
        return self.bin("mul", a, b)

    def div(self, a, b):
        return self.bin("div", a, b)

    def classify(self, shape: tuple[int, ...], what: str) -> str | None:
        shape = tuple(shape)
        if self.main_shape is not None and shape == self.main_shape:
            return "full"
        numel = math.prod(shape)
        if numel == 1:
            return "scalar"
        if self.main_shape is not None and shape and shape[-1] == self.main_shape[-1] and numel == shape[-1]:
            return "col"
        if self.main_shape is not None and len(shape) >= 2 and shape == tuple(self.main_shape[:-1]) + (1,):
            return "row"  # one value per row (a [rows, 1] input), broadcast along the last dim
        if self.matmul_mode:
            return "operand"  # fine as a matmul operand; anything else using it is reported there
        self.bad(f"{what} of shape {list(shape)} (only the output's shape, a last-dim vector, a per-row [..., 1] "
                 "tensor or a scalar broadcast)")
        return None

    def last_dim(self, a: V, dim, what: str) -> bool:
        if isinstance(dim, (list, tuple)):
            if len(dim) != 1:
                self.bad(f"{what} over dims {list(dim)} (only the last dim)")
                return False
            dim = dim[0]
        ndim = len(self.main_shape or ())
        if dim is None or not isinstance(dim, int) or dim not in (-1, ndim - 1):
            self.bad(f"{what} over dim {dim} (only the last dim)")
            return False
        if a.cls not in ("full", "col"):
            self.bad(f"{what} of a {a.cls} value")
            return False
        return True

    def reduce(self, kind: str, a: V, keepdim: bool) -> V:
        if self.matmul_mode:
            self.bad(f"a {kind} reduction in a model with a matmul (the expert fuses elementwise epilogues only)")
        self.reductions += 1
        return V("reduce", (a,), kind, "row" if keepdim else "rowflat")

    def ncols(self) -> V:
        return V("ncols", cls="scalar")

    # -- composite ops -----------------------------------------------------------------------
    def mean(self, a: V, keepdim: bool) -> V:
        return self.div(self.reduce("sum", a, keepdim), self.ncols())

    def var(self, a: V, correction: float, keepdim: bool) -> V:
        mu = self.mean(a, True)
        d = self.sub(a, mu)
        ss = self.reduce("sum", self.mul(d, d), keepdim)
        return self.div(ss, self.sub(self.ncols(), correction) if correction else self.ncols())

    def softmax(self, a: V, log: bool) -> V:
        z = self.sub(a, self.reduce("max", a, True))
        s = self.reduce("sum", self.un("exp", z), True)
        return self.sub(z, self.un("log", s)) if log else self.div(self.un("exp", z), s)

    def layer_norm(self, a: V, w: V | None, b: V | None, eps: float) -> V:
        d = self.sub(a, self.mean(a, True))
        var = self.div(self.reduce("sum", self.mul(d, d), True), self.ncols())
        y = self.mul(d, self.un("rsqrt", self.add(var, eps)))
        if w is not None:
            y = self.mul(y, w)
        if b is not None:
            y = self.add(y, b)
        return y

    def rms_norm(self, a: V, w: V | None, eps: float) -> V:
        ms = self.div(self.reduce("sum", self.mul(a, a), True), self.ncols())
        y = self.mul(a, self.un("rsqrt", self.add(ms, eps)))
        return self.mul(y, w) if w is not None else y

    def param(self, path: str, what: str) -> V | None:
        cls = self.classify(self.param_shape(path), what)
        return None if cls is None else V("param", attr=path, cls=cls)

    def param_shape(self, path: str) -> tuple[int, ...]:
        t = self.gm.get_parameter(path) if _has_param(self.gm, path) else self.gm.get_buffer(path)
        return tuple(t.shape)

    def leaf_shape(self, v: V) -> tuple[int, ...] | None:
        if v.op == "input":
            return self.input_shapes.get(v.attr)
        return self.param_shape(v.attr) if v.op == "param" else None

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> V:
        env: dict[fx.Node, Any] = {}
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        shapes = []
        for n in placeholders:
            meta = n.meta.get("tensor_meta")
            if meta is None or not hasattr(meta, "shape"):
                self.bad(f"non-tensor input {n.target}")
                continue
            shapes.append(tuple(meta.shape))
        if not shapes:
            raise UnsupportedProblem("expert policy: no kernel for a model without tensor inputs")
        self.main_shape = max(shapes, key=math.prod)
        first_matmul = next((n for n in self.gm.graph.nodes if is_matmul_node(self.gm, n)), None)
        if first_matmul is not None and first_matmul.meta.get("tensor_meta") is not None:
            self.matmul_mode = True
            self.main_shape = tuple(first_matmul.meta["tensor_meta"].shape)
        if len(self.main_shape) == 0:
            self.bad("0-d tensor inputs")
        result = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.inputs.append(node.target)
                meta = node.meta.get("tensor_meta")
                if meta is None or not hasattr(meta, "shape"):
                    env[node] = None
                    continue
                if meta.dtype not in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
                    self.bad(f"input {node.target} of dtype {meta.dtype}")
                self.input_shapes[node.target] = tuple(meta.shape)
                cls = self.classify(tuple(meta.shape), f"input {node.target}")
                env[node] = V("input", attr=node.target, cls=cls) if cls else None
            elif node.op == "get_attr":
                env[node] = self.param(node.target, f"attribute {node.target}")
            elif node.op == "output":
                out = node.args[0]
                if isinstance(out, (tuple, list)) and len(out) == 1:  # torch.export returns a tuple
                    out = out[0]
                result = env.get(out) if isinstance(out, fx.Node) else None
                if not isinstance(out, fx.Node):
                    self.bad("several outputs")
            elif node.op == "call_module" and not node.users and str(node.target).startswith("_guards"):
                continue  # torch.export's shape guard: checks, computes nothing
            else:
                args = fx.node.map_arg(node.args, lambda n: env.get(n))
                kwargs = fx.node.map_arg(node.kwargs, lambda n: env.get(n))
                if _has_missing(node, env):
                    env[node] = None  # an input was unsupported: reported already
                    continue
                env[node] = self.lower(node, tuple(args), dict(kwargs))
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
            self.bad(_label(label, name))
            return None
        out = handler(self, args, kwargs, label)
        return out

    def lower_module(self, path: str, mod: nn.Module, args: tuple, kwargs: dict):
        x = args[0] if args else kwargs.get("input")
        kind = type(mod).__name__
        simple = {"ReLU": "relu", "SiLU": "silu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Hardsigmoid": "hardsigmoid",
                  "Hardswish": "hardswish", "Mish": "mish", "SELU": "selu", "Softsign": "softsign", "LogSigmoid": "logsigmoid"}
        if kind == "Identity":
            return x
        if kind == "Linear":
            return lower_linear_module(self, path, mod, x, "nn.Linear")
        if not isinstance(x, V):
            self.bad(_label(f"nn.{kind}", kind))
            return None
        if kind in simple:
            return self.un(simple[kind], x)
        if kind == "ReLU6":
            return self.un("clamp", x, lo=0.0, hi=6.0)
        if kind == "GELU":
            return self.un("gelu_tanh" if mod.approximate == "tanh" else "gelu", x)
        if kind == "Softplus":
            return self.un("softplus", x, beta=float(mod.beta), threshold=float(mod.threshold))
        if kind == "ELU":
            return self.un("elu", x, alpha=float(mod.alpha))
        if kind == "CELU":
            return self.un("celu", x, alpha=float(mod.alpha))
        if kind == "LeakyReLU":
            return self.un("leaky_relu", x, slope=float(mod.negative_slope))
        if kind == "Hardtanh":
            return self.un("clamp", x, lo=float(mod.min_val), hi=float(mod.max_val))
        if kind in ("Softmax", "LogSoftmax"):
            if not self.last_dim(x, mod.dim, f"nn.{kind}"):
                return None
            return self.softmax(x, kind == "LogSoftmax")
        if kind == "LayerNorm":
            if len(mod.normalized_shape) != 1:
                self.bad(f"nn.LayerNorm over {len(mod.normalized_shape)} dims (only the last dim)")
                return None
            if not self.last_dim(x, -1, "nn.LayerNorm"):
                return None
            w = self.param(f"{path}.weight", "nn.LayerNorm weight") if mod.weight is not None else None
            b = self.param(f"{path}.bias", "nn.LayerNorm bias") if getattr(mod, "bias", None) is not None else None
            return self.layer_norm(x, w, b, float(mod.eps))
        if kind == "RMSNorm":
            if len(mod.normalized_shape) != 1 or not self.last_dim(x, -1, "nn.RMSNorm"):
                self.bad("nn.RMSNorm over more than the last dim")
                return None
            w = self.param(f"{path}.weight", "nn.RMSNorm weight") if mod.weight is not None else None
            eps = mod.eps if mod.eps is not None else torch.finfo(torch.float32).eps
            return self.rms_norm(x, w, float(eps))
        if kind == "Dropout" and (mod.p == 0 or not mod.training):
            return x
        self.bad(_label(f"nn.{kind}", kind))
        return None


def _label(label: str, name: str) -> str:
    aten = ATEN_NAMES.get(name)
    return f"{aten} ({label})" if aten else label


def _has_param(gm: nn.Module, path: str) -> bool:
    return path in dict(gm.named_parameters())


def _has_missing(node: fx.Node, env: dict) -> bool:
    return any(env.get(n) is None and n in env for n in node.all_input_nodes)
