"""The knob values of a check's variants: a shape variant changes every size knob to an odd
value about 5/8 of it; a value variant turns every small integer and scales every float.
"""

from __future__ import annotations

from kernelwright.tools.sizes.model import SMALL, Number, SizeModel

FLOAT_FACTOR = 0.75  # a value variant's floats: keeps signs, orderings and (0, 1) ranges


def shape_variant(model: SizeModel, current: dict[str, Number]) -> dict[str, int]:
    """New values of every size knob for a shape variant: about 5/8 of the current value, odd, so
    neither a multiple of the shipped size nor of any power-of-two block (64 -> 39, 1000 -> 625)."""
    changed: dict[str, int] = {}
    for k in model.knobs:
        value = current.get(k.name, k.value)
        if isinstance(value, int) and value >= SMALL:
            new = max(3, (value * 5) // 8)
            changed[k.name] = new - 1 if new % 2 == 0 else new
    return changed


def value_variant(model: SizeModel, current: dict[str, Number]) -> dict[str, Number]:
    """New values of every small integer and every float knob: a batch of 2 becomes 3, an axis 1
    becomes 2, a padding 0 becomes 1, a scale 1.7 becomes 1.275 (floats x0.75; 0.0 stays)."""
    changed: dict[str, Number] = {}
    for k in model.knobs:
        value = current.get(k.name, k.value)
        if isinstance(value, int) and value < SMALL:
            changed[k.name] = value + 1 if value >= 0 else value - 1
        elif isinstance(value, float) and value != 0.0:
            changed[k.name] = value * FLOAT_FACTOR
    return changed
