"""Lowering of `call_module` nodes: activations, norms, poolings, losses and dropout given as nn
modules. A submodule's hyperparameters the kernel is specialised to (a slope, an eps) are recorded
in `fixed` (`hyper`), so the generated forward checks they still hold; the Linear goes to
`matmul_ir`, the convolutions to `conv_ir`.

A mixin of `walk.Lowering`."""

from __future__ import annotations

import torch
import torch.nn as nn

from kernelwright.agents.expert.codegen.pool import PoolSpec
from kernelwright.agents.expert.conv_ir import CONV_MODULES, lower_conv_module
from kernelwright.agents.expert.ir import V, unsupported_label
from kernelwright.agents.expert.matmul_ir import lower_linear_module
from kernelwright.agents.expert.ops import FUNCS


class ModuleLowering:
    """`call_module` nodes: nn modules lowered through the same builders and `ops` handlers."""

    def hyper(self, path: str, mod: nn.Module, name: str):
        """`mod.name`, recorded as baked into the kernel (checked at run time by ModelNew)."""
        value = getattr(mod, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.fixed[f"{module_host(path)}.{name}"] = value
        return value

    def lower_module(self, path: str, mod: nn.Module, args: tuple, kwargs: dict):
        x = args[0] if args else kwargs.get("input")
        kind = type(mod).__name__
        h = lambda name: self.hyper(path, mod, name)  # noqa: E731 - reads below stay one line each
        simple = {"ReLU": "relu", "SiLU": "silu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Hardsigmoid": "hardsigmoid",
                  "Hardswish": "hardswish", "Mish": "mish", "SELU": "selu", "Softsign": "softsign", "LogSigmoid": "logsigmoid"}
        if kind == "Identity":
            return x
        if kind == "Linear":
            return lower_linear_module(self, path, mod, x, "nn.Linear")
        if kind in CONV_MODULES:
            return lower_conv_module(self, path, mod, args, kwargs, module_host(path))
        if not isinstance(x, V):
            self.bad(unsupported_label(f"nn.{kind}", kind))
            return None
        if kind in simple:
            return self.un(simple[kind], x)
        if kind == "ReLU6":
            return self.un("clamp", x, lo=0.0, hi=6.0)
        if kind == "GELU":
            return self.un("gelu_tanh" if mod.approximate == "tanh" else "gelu", x)
        if kind == "Softplus":
            return self.un("softplus", x, beta=float(h("beta")), threshold=float(h("threshold")))
        if kind == "ELU":
            return self.un("elu", x, alpha=float(h("alpha")))
        if kind == "CELU":
            return self.un("celu", x, alpha=float(h("alpha")))
        if kind == "LeakyReLU":
            return self.un("leaky_relu", x, slope=float(h("negative_slope")))
        if kind == "Hardtanh":
            return self.un("clamp", x, lo=float(h("min_val")), hi=float(h("max_val")))
        if kind in ("Softmax", "LogSoftmax"):
            return FUNCS["softmax" if kind == "Softmax" else "log_softmax"](self, (x, h("dim")), {}, f"nn.{kind}")
        w = self.param(f"{path}.weight", f"nn.{kind} weight") if getattr(mod, "weight", None) is not None else None
        b = self.param(f"{path}.bias", f"nn.{kind} bias") if getattr(mod, "bias", None) is not None else None
        if kind in ("LayerNorm", "RMSNorm"):
            shape = self.in_shape(0) or ()
            n = len(mod.normalized_shape)
            if self.reduce_check(x, shape, list(range(len(shape) - n, len(shape))), f"nn.{kind}") != "ok":
                self.bad(f"nn.{kind} over size-1 dims")
                return None
            if kind == "LayerNorm":
                return self.layer_norm(x, w, b, float(h("eps")))
            eps = h("eps") if mod.eps is not None else torch.finfo(torch.float32).eps
            return self.rms_norm(x, w, float(eps))
        if kind == "GroupNorm":
            return self.group_norm(x, int(mod.num_groups), w, b, float(h("eps")), "nn.GroupNorm",
                                   f"{module_host(path)}.num_groups")  # the group count is read at run time
        if kind in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
            running = getattr(mod, "running_mean", None) is not None and mod.track_running_stats
            if running and not mod.training:
                mean = self.param(f"{path}.running_mean", f"nn.{kind} running_mean")
                var = self.param(f"{path}.running_var", f"nn.{kind} running_var")
                return self.batch_norm_eval(x, mean, var, w, b, float(h("eps")), f"nn.{kind}")
            if kind.startswith("BatchNorm"):
                self.bad(f"nn.{kind} with batch statistics (training mode)")
                return None
            return self.instance_norm(x, w, b, float(h("eps")), f"nn.{kind}")
        if kind == "Dropout" and (mod.p == 0 or not mod.training):
            return x
        if kind in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d"):
            if getattr(mod, "return_indices", False):
                self.bad(f"nn.{kind} with return_indices")
                return None
            avg = kind.startswith("Avg")
            m = module_host(path)
            spec = PoolSpec("avg" if avg else "max", int(kind[-2]), f"{m}.kernel_size", f"{m}.stride", f"{m}.padding",
                            "1" if avg else f"{m}.dilation", repr(bool(mod.ceil_mode)), bool(getattr(mod, "count_include_pad", True)),
                            getattr(mod, "divisor_override", None), self.in_shape(0) or (), self.out_shape() or ())
            return self.pool(x, spec, f"nn.{kind}")
        if kind in ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"):
            size = h("output_size") if isinstance(mod.output_size, int) else mod.output_size
            return FUNCS[kind.replace("AdaptiveAvgPool", "adaptive_avg_pool")](self, (x, size), {}, f"nn.{kind}")
        losses = {"MSELoss": ("mse_loss", {}), "L1Loss": ("l1_loss", {}),
                  "SmoothL1Loss": ("smooth_l1_loss", {"beta": getattr(mod, "beta", 1.0)}),
                  "HuberLoss": ("huber_loss", {"delta": getattr(mod, "delta", 1.0)}),
                  "KLDivLoss": ("kl_div", {"log_target": getattr(mod, "log_target", False)})}
        if kind in losses:
            fn, extra = losses[kind]
            return FUNCS[fn](self, tuple(args[:2]), {"reduction": mod.reduction, **extra}, f"nn.{kind}")
        if kind == "CosineSimilarity":
            return FUNCS["cosine_similarity"](self, tuple(args[:2]), {"dim": h("dim"), "eps": h("eps")}, f"nn.{kind}")
        if kind == "PairwiseDistance":
            return FUNCS["pairwise_distance"](self, tuple(args[:2]), {"p": mod.norm, "eps": h("eps"), "keepdim": mod.keepdim},
                                              f"nn.{kind}")
        self.bad(unsupported_label(f"nn.{kind}", kind))
        return None


def module_host(path: str) -> str:
    """The expression ModelNew reads a submodule attribute by: `layers.0.alpha` -> `self.layers[0].alpha`."""
    return "self" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in path.split("."))

