"""Triton expression text for the IR's unary, binary and reduction ops, the small accurate
helpers the kernels may need (tanh, expm1, log1p near zero), and the walk over an IR graph."""

from __future__ import annotations

from kernelwright.agents.expert.ir import UnsupportedProblem, V


def _f(c: float) -> str:
    if c != c:
        return 'float("nan")'
    if c in (float("inf"), float("-inf")):
        return 'float("inf")' if c > 0 else '-float("inf")'
    return repr(float(c))


# Helpers emitted into the solution when used (accurate near 0, where naive forms cancel).
HELPERS = {
    "kw_tanh": '''
@triton.jit
def kw_tanh(x):
    ax = tl.abs(x)
    t = tl.exp(-2.0 * ax)
    big = (1.0 - t) / (1.0 + t)
    x2 = x * x
    small = x * (1.0 + x2 * (-0.3333333333333333 + x2 * (0.13333333333333333 + x2 * -0.05396825396825397)))
    return tl.where(ax < 0.0625, small, tl.where(x < 0, -big, big))
''',
    "kw_round_out": '''
# Triton's CPU interpreter truncates fp32 -> bf16 (3.7.1) where compiled code rounds to nearest
# even: there bf16 is rounded by its bits. Same values; compiled, the one-instruction conversion
# instead of integer work on every element of the epilogue.
KW_BF16_BY_BITS = tl.constexpr(os.getenv("TRITON_INTERPRET") == "1")


@triton.jit
def kw_round_out(x, dtype: tl.constexpr):
    # x rounded to `dtype` (to nearest even) and back to fp32, as the reference stores it.
    if dtype == tl.bfloat16 and KW_BF16_BY_BITS:
        bits = x.to(tl.uint32, bitcast=True)
        bits = bits + 0x7FFF + ((bits >> 16) & 1)
        bits = (bits >> 16) << 16
        return tl.where(x != x, x, bits.to(tl.float32, bitcast=True))
    else:
        return x.to(dtype).to(tl.float32)
''',
    "kw_mul": '''
@triton.jit
def kw_mul(a, b):
    return a * b
''',
    "kw_expm1": '''
@triton.jit
def kw_expm1(x):
    small = x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * 0.041666666666666664)))
    return tl.where(tl.abs(x) < 0.01, small, tl.exp(x) - 1.0)
''',
    "kw_log1p": '''
@triton.jit
def kw_log1p(x):
    u = 1.0 + x
    d = u - 1.0
    return tl.where(d == 0.0, x, tl.log(u) * (x / tl.where(d == 0.0, 1.0, d)))
''',
}


# Unary ops as one Triton expression each: (template over `{x}` and the op's parameters, the
# helpers it calls). Parameters are formatted as float literals; ops with a structure of their own
# (softplus, clamp, pow) are built in `unary_expr`.
UNARY: dict[str, tuple[str, tuple[str, ...]]] = {
    # a matmul's result as the reference materialises it (see matmul_ir.materialised)
    "round_out": ("kw_round_out({x}, out_ptr.dtype.element_ty)", ("kw_round_out",)),
    "neg": ("-{x}", ()),
    **{fn: (f"tl.{fn}({{x}})", ()) for fn in ("exp", "log", "sqrt", "rsqrt", "abs", "erf", "sin", "cos", "sigmoid", "exp2", "log2")},
    "relu": ("tl.maximum({x}, 0.0)", ()),
    "square": ("{x} * {x}", ()),
    "reciprocal": ("1.0 / {x}", ()),
    "sign": ("tl.where({x} > 0, 1.0, tl.where({x} < 0, -1.0, 0.0))", ()),
    "tanh": ("kw_tanh({x})", ("kw_tanh",)),
    "expm1": ("kw_expm1({x})", ("kw_expm1",)),
    "log1p": ("kw_log1p({x})", ("kw_log1p",)),
    "gelu": ("0.5 * {x} * (1.0 + tl.erf({x} * 0.7071067811865476))", ()),
    "gelu_tanh": ("0.5 * {x} * (1.0 + kw_tanh(0.7978845608028654 * ({x} + 0.044715 * {x} * {x} * {x})))", ("kw_tanh",)),
    "silu": ("{x} * tl.sigmoid({x})", ()),
    "mish": ("{x} * kw_tanh(kw_log1p(tl.exp(-tl.abs({x}))) + tl.maximum({x}, 0.0))", ("kw_tanh", "kw_log1p")),
    "logsigmoid": ("tl.minimum({x}, 0.0) - kw_log1p(tl.exp(-tl.abs({x})))", ("kw_log1p",)),
    "elu": ("tl.where({x} > 0, {x}, {alpha} * kw_expm1(tl.minimum({x}, 0.0)))", ("kw_expm1",)),
    "celu": ("tl.where({x} > 0, {x}, {alpha} * kw_expm1(tl.minimum({x}, 0.0) / {alpha}))", ("kw_expm1",)),
    "selu": ("1.0507009873554805 * tl.where({x} > 0, {x}, 1.6732632423543772 * kw_expm1(tl.minimum({x}, 0.0)))", ("kw_expm1",)),
    "leaky_relu": ("tl.where({x} > 0, {x}, {x} * {slope})", ()),
    "hardsigmoid": ("tl.minimum(tl.maximum({x} / 6.0 + 0.5, 0.0), 1.0)", ()),
    "hardswish": ("{x} * tl.minimum(tl.maximum({x} / 6.0 + 0.5, 0.0), 1.0)", ()),
    "softsign": ("{x} / (1.0 + tl.abs({x}))", ()),
}


def unary_expr(fn: str, x: str, p: dict, used: set[str]) -> str:
    if fn in UNARY:
        template, helpers = UNARY[fn]
        used.update(helpers)
        return template.format(x=x, **{k: _f(v) for k, v in p.items()})
    if fn == "softplus":
        used.add("kw_log1p")
        beta, thr = p["beta"], p["threshold"]
        z = f"({x} * {_f(beta)})" if beta != 1.0 else x
        soft = f"kw_log1p(tl.exp(-tl.abs({z}))) + tl.maximum({z}, 0.0)"
        if beta != 1.0:
            soft = f"({soft}) / {_f(beta)}"
        return f"tl.where({z} > {_f(thr)}, {x}, {soft})"
    if fn == "clamp":
        out = x
        if p.get("lo") is not None:
            out = f"tl.maximum({out}, {_f(p['lo'])})"
        if p.get("hi") is not None:
            out = f"tl.minimum({out}, {_f(p['hi'])})"
        return out
    if fn == "pow":
        e = p["e"]
        if e == int(e) and abs(e) <= 8:
            n = int(abs(e))
            body = " * ".join([x] * n) if n else "1.0"
            return f"1.0 / ({body})" if e < 0 else f"({body})"
        if e == 0.5:
            return f"tl.sqrt({x})"
        if e == -0.5:
            return f"tl.rsqrt({x})"
        return f"tl.exp({_f(e)} * tl.log({x}))"
    raise UnsupportedProblem(f"expert policy: no kernel for the unary op {fn}")


BINARY = {"add": "{a} + {b}", "sub": "{a} - {b}", "mul": "{a} * {b}", "div": "{a} / {b}",
          "maximum": "tl.maximum({a}, {b})", "minimum": "tl.minimum({a}, {b})",
          "gt": "{a} > {b}", "lt": "{a} < {b}", "ge": "{a} >= {b}", "le": "{a} <= {b}", "eq": "{a} == {b}", "ne": "{a} != {b}"}
REDUCE_INIT = {"sum": "0.0", "max": '-float("inf")', "min": 'float("inf")', "prod": "1.0",
               "argmax": '-float("inf")', "argmin": 'float("inf")'}
REDUCE_FN = {"sum": "tl.sum", "max": "tl.max", "min": "tl.min"}


_SIGS: dict[int, tuple] = {}


def reset_signatures() -> None:
    """Forget the structural keys of an earlier graph (ids may be reused by new IR nodes)."""
    _SIGS.clear()


def sig(v: V) -> tuple:
    """A structural key: equal subexpressions (softmax's two exp(x - max)) share one variable."""
    key = _SIGS.get(id(v))
    if key is None or key[0] is not v:
        attr = v.attr if v.op != "un" else (v.attr[0], tuple(sorted(v.attr[1].items())))
        key = (v, (v.op, repr(attr), v.cls, v.layout, tuple(sig(a) for a in v.args)))
        _SIGS[id(v)] = key
    return key[1]


def walk(out: V) -> list[V]:
    """All nodes reachable from `out`, children before parents."""
    seen, order = set(), []

    def visit(v: V) -> None:
        if id(v) in seen:
            return
        seen.add(id(v))
        for a in v.args:
            visit(a)
        order.append(v)

    visit(out)
    return order


