"""Handlers of the ops that are a matmul in another form: einsum of a tensor times a matrix, and
triu / tril of a matmul's result (a position mask in the epilogue)."""

from __future__ import annotations

from kernelwright.agents.expert.ir import V, _bind


def _triangle(upper: bool):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "diagonal"], {"diagonal": 0})
        x, d = p["input"], p["diagonal"]
        if not isinstance(x, V) or not isinstance(d, int) or lw.gemm != "matmul" or len(lw.main_shape or ()) != 2:
            lw.bad(f"{label} (only of a 2-D matmul's result)")
            return None
        offset = lw.bin("sub", V("pos", attr="col", cls="full"), V("pos", attr="row", cls="full"), label)
        keep = lw.bin("ge" if upper else "le", offset, float(d), label)
        return V("where", (keep, x, lw.const(0.0)), None, "full")
    return h


def _einsum(lw, args, kwargs, label):
    """Two-operand einsums that are one matmul: A's last index contracted with one index of a
    2-D B, the output A's other indices then B's free one ("bijl,lk->bijk", "ik,kj->ij")."""
    from kernelwright.agents.expert.matmul_ir import lower_matmul_call, view_value

    if len(args) != 3 or not isinstance(args[0], str):
        lw.bad(f"{label} of other than two operands")
        return None
    eq, a, b = args[0].replace(" ", ""), args[1], args[2]
    if "->" not in eq or "." in eq:
        lw.bad(f"{label} '{eq}'")
        return None
    ins, out = eq.split("->")
    ia, ib = ins.split(",") if ins.count(",") == 1 else ("", "")
    if len(ib) != 2 or not ia or len(set(ia)) != len(ia):
        lw.bad(f"{label} '{eq}' (only a tensor times a matrix)")
        return None
    k = ia[-1]
    if k not in ib or out != ia[:-1] + ib.replace(k, ""):
        lw.bad(f"{label} '{eq}' (only a tensor times a matrix)")
        return None
    if ib[1] == k:
        b = view_value(lw, b, ".t()", label)
    return lower_matmul_call(lw, "matmul", (a, b), {}, label)


MATMUL_FORMS = {"triu": _triangle(True), "tril": _triangle(False), "einsum": _einsum}
