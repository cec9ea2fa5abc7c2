"""The size model of a problem file: the literal constants that feed its inputs and its
constructor ("knobs"), how a variant changes them, and how far the CPU check shrinks them.

Read from the AST alone, never by running the file, so the parent can plan a check before any
problem code runs; the reference worker imports it too, to fall back when the reference itself
fails at a planned set of values. One model serves the shape variants, the value variants and
the automatic reduction for Triton's CPU interpreter.

What counts as a knob (KernelBench's files use every form):
- module-level `NAME = 16`, `N = 2048 * 2`, `slope = -0.1`, chained `h = w = 128`, tuple
  assignments `D, H, W = 16, 32, 32` and tuple values `input_shape = (8192 * 2,)`;
- in `get_inputs`/`get_init_inputs`: literal sizes of tensor factories (`torch.rand(batch, 3,
  224, 224)`), local `s = 3.14`, and literals in the returned list (`return [1]`);
- only if something that builds the inputs, the constructor arguments or `Model` uses it.

The package, by concept: `model` (the records: `Knob`, `SizeModel`), `arithmetic` (evaluating
literal expressions), `reading` (finding the knobs in a source: `read_knobs`), `variants` (the
values a shape or value variant gives them), `reduction` (the automatic CPU reduction) and
`rewrite` (writing new values into the source, and describing a change for a report). Callers
import this package (`from kernelwright.tools import sizes`) and use the names below.
"""

from __future__ import annotations

from kernelwright.tools.sizes.arithmetic import evaluate
from kernelwright.tools.sizes.model import SMALL, Knob, Number, SizeModel, Span
from kernelwright.tools.sizes.reading import read_knobs
from kernelwright.tools.sizes.reduction import ELEMENT_BUDGET, FLOOR, INIT_CAP, cpu_reduction, cpu_reductions
from kernelwright.tools.sizes.rewrite import apply, describe
from kernelwright.tools.sizes.variants import FLOAT_FACTOR, shape_variant, value_variant

__all__ = [
    "ELEMENT_BUDGET", "FLOAT_FACTOR", "FLOOR", "INIT_CAP", "SMALL", "Knob", "Number", "SizeModel", "Span",
    "apply", "cpu_reduction", "cpu_reductions", "describe", "evaluate", "read_knobs", "shape_variant", "value_variant",
]
