"""The offline expert policy: deterministic roles with no LLM.

`graph_ir` traces the reference with torch.fx and lowers it to a small expression IR;
`codegen` emits a solution (ModelNew + one Triton kernel) for the elementwise and last-dim row
families; `roles` holds the planner, coder, debugger and analyst wired in by the registry.
"""

from kernelwright.agents.expert.graph_ir import UnsupportedProblem

__all__ = ["UnsupportedProblem"]
