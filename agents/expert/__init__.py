"""The offline expert policy: deterministic roles with no LLM.

- `tracing` traces the reference (torch.fx; torch.export where fx cannot) and `graph_ir` lowers
  it to a small expression IR (`ops` for functions and methods, `matmul_ir` for the matmul family);
- `codegen` (elementwise and row kernels, the shared expression `Emitter`) and `matmul_codegen`
  (a tiled tl.dot with the epilogue fused) write the kernels; `solution` assembles the file;
- `configs` holds tuning configurations and their spaces, `lessons` reads the ones the memory
  states in a usable form, `tuning` picks each round's space from sizes, lessons and profile;
- `repairs` are the debugger's known fixes; `roles` wires planner, coder, debugger and analyst;
- `static_fit` checks on a CPU machine that the GPU configs compile for sm_90.
"""

from kernelwright.agents.expert.ir import UnsupportedProblem

__all__ = ["UnsupportedProblem"]
