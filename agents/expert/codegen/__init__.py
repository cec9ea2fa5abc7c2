"""The expert's kernel writers, one module per kernel family, and the host code around them.

- `emitter`: the expression `Emitter` every family shares (IR values to Triton statements) and
  the names of a kernel's leaves;
- kernels: `elementwise`, `rows` (rows and cols reductions), `split_rows` (few long rows split
  over programs), `scan`, `pool`, `matmul` (a tiled tl.dot with the epilogue fused);
- `decorators`: autotune / heuristics and the host helpers they call;
- `launch`: the forward lines that allocate the output and launch a stage's kernel;
- `stage`: one stage's kernel, helpers and forward lines together (`solution` assembles the file).
"""
