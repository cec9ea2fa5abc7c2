"""Handlers of scans: cumsum / cumprod along the stage's row, and the `kw_scan` form that
`decompose` rewrites reverse (flip / cumsum / flip) and exclusive scans into."""

from __future__ import annotations

from kernelwright.agents.expert.ir import V, _bind


def _scan(default_kind: str | None):
    """cumsum / cumprod (and the `kw_scan` rewrites: reverse, exclusive) along the stage's row."""
    def h(lw, args, kwargs, label):
        names = ["input", "dim", "kind", "reverse", "exclusive"]
        p = _bind(args, kwargs, names, {"kind": default_kind, "reverse": False, "exclusive": False})
        if p.get("dtype") is not None:
            lw.bad(f"{label} with dtype")
            return None
        x, kind = p["input"], p["kind"]
        how = lw.reduce_check(x, lw.in_shape(0), p["dim"], label)
        if how is None:
            return None
        if kind == "prod" and p["exclusive"]:
            lw.bad(f"{label}: an exclusive product")
            return None
        if how == "trivial":
            return lw.mul(x, 0.0) if p["exclusive"] else x
        if x.cls == "leaf":
            x = lw.resolve(x, lw.in_shape(0), label)
        lw.scans += 1
        return V("scan", (x,), (kind, bool(p["reverse"]), bool(p["exclusive"])), "full")
    return h


SCANS = {"cumsum": _scan("sum"), "cumprod": _scan("prod"), "kw_scan": _scan(None)}
