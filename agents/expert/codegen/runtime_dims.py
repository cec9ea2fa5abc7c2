"""The host side of a reduction over a dim read at run time (`lowering.runtime_dims`): forward
normalises the attribute as torch does and splits the main tensor around it (rows before it,
n_cols along it, n_q after it), so the `cols` kernel reduces over whichever dim the model was
built with; the output keeps that dim as 1 (keepdim) or drops it."""

from __future__ import annotations

from kernelwright.agents.expert.lowering.runtime_dims import RuntimeDim


def split_lines(rd: RuntimeDim) -> list[str]:
    """Forward lines defining `kw_dim`, `kw_n_cols` and `kw_n_q` from the attribute's value (an
    out-of-range dim raises torch's IndexError)."""
    dim = rd.host
    return [f"kw_dim = {dim} + kw_main.ndim if {dim} < 0 else {dim}  # the reduced dim, read at run time",
            "if not 0 <= kw_dim < kw_main.ndim:",
            '    raise IndexError(f"Dimension out of range (expected to be in range of [{-kw_main.ndim}, '
            f'{{kw_main.ndim - 1}}], but got {{{dim}}})")',
            "kw_n_cols = kw_main.shape[kw_dim]",
            "kw_n_q = math.prod(kw_main.shape[kw_dim + 1:])"]


def out_shape(cls: str) -> str:
    """The output's shape at run time: the main tensor's (an elementwise epilogue of the
    reduction), with the reduced dim kept as 1 (`row`) or dropped (`rowflat`)."""
    if cls == "full":
        return "kw_main.shape"
    kept = " + (1,)" if cls == "row" else ""
    return f"kw_main.shape[:kw_dim]{kept} + kw_main.shape[kw_dim + 1:]"
