"""Lowering of a traced graph to the expert's expression IR: `Lowering` (in `walk`) walks the
graph; `values` builds and places IR values, `reductions` the reductions and composite ops
(`runtime_dims`: a reduction's dim read from an attribute at run time), `modules` lowers nn
modules; function and method nodes go to the handlers in `ops`."""

from kernelwright.agents.expert.lowering.modules import module_host
from kernelwright.agents.expert.lowering.walk import Lowering

__all__ = ["Lowering", "module_host"]
