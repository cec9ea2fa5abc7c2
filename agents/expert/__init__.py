"""The offline expert policy: deterministic roles with no LLM.

Families (the kernel structure a stage lowers to): `elementwise` chains; `rows`, reductions over
trailing dims (softmax, log-softmax, layer/RMS/group/instance norms, argmax, losses per row, few
long rows split); `cols`, reductions over a middle block of dims; `scan` (cumsum/cumprod, reverse
and exclusive); `pool` (max/avg over 1-3 spatial dims; an adaptive average to size 1 is a mean);
`matmul` with its elementwise epilogue (triu/tril as a position mask, einsum as a matmul); `conv`
(Conv1d/2d/3d and ConvTranspose1d/2d/3d with stride, zero padding, dilation and groups: an
implicit-GEMM direct convolution with its elementwise epilogue fused). A graph no single kernel
computes is split into stages, one kernel each, through temporaries (`pipeline`; losses that
reduce twice are first rewritten by `decompose`): a conv then a GroupNorm is a conv stage, then a
row stage. Not covered: sort, scaled_dot_product_attention, non-zero padding modes.

- `tracing` traces the reference (torch.fx; torch.export where fx cannot) and `lowering` lowers
  it to a small expression IR (`ir`; `ops` holds the handlers of functions and methods by op
  family, `matmul_ir` the matmul family, `conv_ir` the convolutions); `space` places operands of
  other shapes in a stage's iteration space;
- `codegen` writes the kernels, one module per family (elementwise, rows and cols, few long rows
  split, scan, pool, matmul: a tiled tl.dot with the epilogue fused, conv: the same over gathered
  input windows) around the shared expression `Emitter`, and each stage's decorators and launch
  code; `solution` assembles the file;
- `configs` holds tuning configurations and their spaces, `lessons` reads the ones the memory
  states in a usable form, `tuning` picks each round's space from sizes, lessons and profile;
- `repairs` are the debugger's known fixes; `roles` wires planner, coder, debugger and analyst;
- `static_fit` checks on a CPU machine that the GPU configs compile for sm_90.
"""

from kernelwright.agents.expert.ir import UnsupportedProblem

__all__ = ["UnsupportedProblem"]
