"""A reduction's dim read at run time: `torch.sum(x, dim=self.dim)` with `self.dim` a scalar
attribute traced live (see `tracing`). A value variant of the problem builds the model with
another dim; the `cols` kernel takes its split (rows, n_cols, n_q) as arguments, so the same
kernel reduces over any dim once the host computes that split from the attribute (a last-dim
reduction is n_q == 1), see `codegen.runtime_dims`.

The lowering still works at the traced value (the space, the structure checks and the tuning
are those of the traced dim): `runtime_dims` replaces the attribute by that value in a
reduction's dims, and `check_runtime_dim` keeps the attribute at run time only where nothing
else in the stage depends on it. Anywhere else the lowering fails with the attribute live, and
`tracing` keeps it fixed (the generated forward checks it still has the traced value).

A mixin of `walk.Lowering`: its state is `dims_used`."""

from __future__ import annotations

import dataclasses

from kernelwright.agents.expert.expressions import walk
from kernelwright.agents.expert.ir import UnsupportedProblem, V
from kernelwright.agents.expert.lowering.modules import module_host


@dataclasses.dataclass(frozen=True)
class RuntimeDim:
    host: str  # the attribute as ModelNew reads it (`self.dim`)
    traced: int  # its value at tracing, normalised (0 <= traced < ndim)
    ndim: int  # the reduced tensor's rank (the main shape's)


@dataclasses.dataclass
class DimsUsed:
    """What the stage's reductions were given as dims: one run-time dim (each reduction the same)
    or literals; both at once is a second structure once the attribute changes."""

    runtime: RuntimeDim | None = None
    literal: bool = False


class RuntimeDimBuilder:
    """`reduce_check`'s handling of a dim given as a scalar attribute."""

    def runtime_dims(self, x, shape: tuple[int, ...], dims: list, what: str) -> list | None:
        """`dims` (a list) with a run-time dim replaced by its traced value; None (reported) where
        the stage cannot follow the attribute at run time."""
        used: DimsUsed = self.dims_used
        live = [d for d in dims if isinstance(d, V)]
        if not live:
            if used.runtime is not None:
                self.bad(f"{what} over literal dims beside a reduction over {used.runtime.host} (read at run time)")
                return None
            used.literal = True
            return dims
        value = self.attribute_value(live[0])
        n = len(shape)
        if len(dims) != 1 or not isinstance(value, int) or not -n <= value < n:
            self.bad(f"{what} over dims {[d.attr if isinstance(d, V) else d for d in dims]} "
                     "(a run-time dim: only one, read from an integer attribute)")
            return None
        rd = RuntimeDim(live[0].attr, value % n, n)
        if used.literal or used.runtime not in (None, rd):
            self.bad(f"{what} over {rd.host} (read at run time) beside a reduction over other dims")
            return None
        # The run-time split is computed from the reduced tensor's own shape: it must be the stage's
        # main tensor, and the traced dim not one the lowering drops (size 1: no reduction at all).
        if tuple(shape) != tuple(self.main_shape or ()) or shape[rd.traced] == 1 or getattr(x, "cls", None) != "full":
            self.bad(f"{what} over {rd.host} (read at run time) of a {getattr(x, 'cls', 'missing')} value of shape "
                     f"{list(shape)} in a stage over {list(self.main_shape or ())}")
            return None
        used.runtime = rd
        return [rd.traced]

    def attribute_value(self, v: V) -> int | float | None:
        """The traced value of a scalar attribute `v` (an `arg` read by a `get_attr` of this node)."""
        if v.op != "arg" or self.node is None:
            return None
        for n in self.node.all_input_nodes:
            if n.op == "get_attr" and module_host(n.target) == v.attr:
                owner, _, name = n.target.rpartition(".")
                value = getattr(self.gm.get_submodule(owner) if owner else self.gm, name, None)
                return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        return None


def check_runtime_dim(used: DimsUsed, out: V, family: str, main_shape: tuple[int, ...],
                      out_shape: tuple[int, ...]) -> RuntimeDim | None:
    """The stage's run-time dim where its kernel follows it at any value; raises UnsupportedProblem
    (the attribute then stays fixed) where something else depends on it."""
    rd = used.runtime
    if rd is None:
        return None
    main, d = tuple(main_shape), rd.traced
    expected = {"full": main, "row": main[:d] + (1,) + main[d + 1:], "rowflat": main[:d] + main[d + 1:]}.get(out.cls)
    others = sorted({v.cls for v in walk(out) if v.op in ("input", "param") and v.cls != "full"})
    why = None
    if family != "cols":  # a rows kernel has no n_q: the traced dim is the last one
        why = f"a {family} kernel (the cols kernel alone takes the split at run time)"
    elif others:  # their offsets (layouts) are built for the traced dim
        why = f"operands broadcast along some dims ({', '.join(others)})"
    elif expected is None or tuple(out_shape) != expected:
        why = f"an output of shape {list(out_shape)} (a view of the reduction's)"
    if why:
        raise UnsupportedProblem(f"expert policy: the reduction over {rd.host} is specialised to {rd.traced}: {why}")
    return rd
