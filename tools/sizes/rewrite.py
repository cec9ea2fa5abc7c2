"""Writing knob values back into a problem source (`apply`: only the knobs' own text changes, so
line numbers stay) and naming a change for a report (`describe`: `batch_size 4096 -> 64`).
"""

from __future__ import annotations

from kernelwright.tools.sizes.model import Number, SizeModel


def apply(model: SizeModel, overrides: dict[str, Number]) -> str:
    """The source with the knobs in `overrides` (knob name -> value) rewritten; lines are kept."""
    if not overrides:
        return model.source
    unknown = set(overrides) - {k.name for k in model.knobs}
    if unknown:
        raise KeyError(f"no knob named {sorted(unknown)}")
    lines = model.source.splitlines(keepends=True)
    edits = sorted(((k.span, overrides[k.name]) for k in model.knobs if k.name in overrides), key=lambda e: (e[0].line, e[0].col), reverse=True)
    for span, value in edits:
        first, last = lines[span.line - 1].encode(), lines[span.end_line - 1].encode()
        text = first[: span.col] + _literal(value).encode() + last[span.end_col :]
        lines[span.line - 1 : span.end_line] = [text.decode()]
    return "".join(lines)


def _literal(value: Number) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def describe(model: SizeModel, overrides: dict[str, Number]) -> str:
    """`batch_size 4096 -> 64, dim 4096 -> 1000` for a report."""
    knobs = model.by_name()
    return ", ".join(f"{name} {knobs[name].value if name in knobs else '?'} -> {value}" for name, value in overrides.items())
