"""The expert's kernel writers, one module per kernel family, and the host code around them.

- `emitter`: the expression `Emitter` every family shares (IR values to Triton statements) and
  the names of a kernel's leaves;
- kernels: `elementwise`, `rows` (rows and cols reductions), `split_rows` (few long rows split
  over programs), `scan`, `pool`, `matmul` (a tiled tl.dot with the epilogue fused), `conv` (an
  implicit-GEMM direct convolution with the epilogue fused; `conv_host` its host side);
- `host_helpers`: host functions the generated code of several families calls;
- `decorators`: autotune / heuristics and the host helpers they call;
- `launch`: the forward lines that allocate the output and launch a stage's kernel (`runtime_dims`:
  the split around a reduction's dim read at run time);
- `stage`: one stage's kernel, helpers and forward lines together (`solution` assembles the file).
"""
