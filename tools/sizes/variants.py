"""The knob values of a check's variants: a shape variant changes every size knob to an odd
value about 5/8 of it (just past a multiple of 64 from 128 up); a value variant turns every small
integer and scales every float.
"""

from __future__ import annotations

import random

from kernelwright.tools.sizes.model import SMALL, Number, SizeModel

FLOAT_FACTOR = 0.75  # a value variant's floats: keeps signs, orderings and (0, 1) ranges


TAIL_BLOCK = 64  # a shape variant's sizes from BLOCK_FLOOR up end just past a multiple of this


def shape_variant(model: SizeModel, current: dict[str, Number], seed: int | None = None) -> dict[str, int]:
    """New values of every size knob for a shape variant: about 5/8 of the current value, odd, so
    neither a multiple of the shipped size nor of any power-of-two block (64 -> 39). From 2 x
    TAIL_BLOCK up, the value is a multiple of TAIL_BLOCK plus a small odd tail (1, 3, 5 or 7, drawn
    from the check's secret `seed`; 1000 -> 577 + 2k): the last block of a kernel holds only a few
    elements. Red team pass 8 dropped a tail shorter than half a block, which 5/8 of 300 (187, a
    tail of 59) never showed; with the tail drawn, which sizes a variant takes is not knowable."""
    rng = random.Random(seed)
    changed: dict[str, int] = {}
    for k in model.knobs:
        value = current.get(k.name, k.value)
        if isinstance(value, int) and value >= SMALL:
            new = max(3, (value * 5) // 8)
            if new >= 2 * TAIL_BLOCK:
                changed[k.name] = (new // TAIL_BLOCK) * TAIL_BLOCK + rng.choice((1, 3, 5, 7))
            else:
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
