"""Handlers of the functional poolings (max / avg over 1-3 spatial dims, and the `_`-prefixed
forms torch.export records): the traced literals become a `PoolSpec` for the pool kernel. An
adaptive average pooling to size 1 (a global average) is the mean over the spatial dims."""

from __future__ import annotations

from kernelwright.agents.expert.ir import _as_list, _bind
from kernelwright.agents.expert.ops.reductions import REDUCTIONS


def _pool_fn(kind: str, nd: int):
    def h(lw, args, kwargs, label):
        from kernelwright.agents.expert.codegen.pool import PoolSpec

        if kind == "max":
            names = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
            p = _bind(args, kwargs, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
            if p["return_indices"]:
                lw.bad(f"{label} with return_indices")
                return None
        else:
            names = ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]
            p = _bind(args, kwargs, names, {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                                            "divisor_override": None})
        stride = p["stride"] if p["stride"] not in (None, [], ()) else p["kernel_size"]
        spec = PoolSpec(kind, nd, repr(p["kernel_size"]), repr(stride), repr(p["padding"]), repr(p.get("dilation", 1)),
                        repr(bool(p["ceil_mode"])), bool(p.get("count_include_pad", True)), p.get("divisor_override"),
                        lw.in_shape(0) or (), lw.out_shape() or ())
        return lw.pool(p["input"], spec, label)
    return h


def _global_avg_pool(nd: int):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "output_size"])
        if any(s != 1 for s in _as_list(p["output_size"])):
            lw.bad(f"{label} to an output of {p['output_size']!r} (only 1: a global average)")
            return None
        return REDUCTIONS["mean"](lw, (p["input"], list(range(-nd, 0)), True), {}, label)
    return h


POOLING = {f"{pre}{k}_pool{n}d": _pool_fn(k, n) for pre in ("", "_") for k in ("max", "avg") for n in (1, 2, 3)}
POOLING.update({f"{pre}adaptive_avg_pool{n}d": _global_avg_pool(n) for pre in ("", "_") for n in (1, 2, 3)})
