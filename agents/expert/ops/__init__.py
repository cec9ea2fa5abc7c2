"""Handlers that lower torch functions and methods (call_function / call_method nodes) to the IR,
one module per op family; `FUNCS` maps an op name to its handler. A handler takes the `Lowering`,
the node's lowered arguments and keyword arguments, and a label for messages; it returns an IR
value (`V`), or None after reporting what it cannot lower through `Lowering.bad`.

- `elementwise`: arithmetic, activations, clamps, powers, comparisons, casts;
- `reductions`: sum / mean / max / var / logsumexp / softmax / norms over the reduced dims;
- `norms`: layer / RMS / group / instance / batch norm;
- `losses`: pointwise losses, kl_div, distances and cosine similarity;
- `views`: views, transposes, sizes and indexing;
- `scans`, `pooling`, `matmul_forms` (einsum, triu / tril), `convolution` (F.conv*d, F.conv_transpose*d).
"""

from __future__ import annotations

from kernelwright.agents.expert.ops.convolution import CONVOLUTION
from kernelwright.agents.expert.ops.elementwise import ELEMENTWISE
from kernelwright.agents.expert.ops.losses import LOSSES
from kernelwright.agents.expert.ops.matmul_forms import MATMUL_FORMS
from kernelwright.agents.expert.ops.norms import NORMS
from kernelwright.agents.expert.ops.pooling import POOLING
from kernelwright.agents.expert.ops.reductions import REDUCTIONS
from kernelwright.agents.expert.ops.scans import SCANS
from kernelwright.agents.expert.ops.views import VIEWS

FUNCS = {**ELEMENTWISE, **REDUCTIONS, **NORMS, **LOSSES, **VIEWS, **SCANS, **POOLING, **MATMUL_FORMS, **CONVOLUTION}

__all__ = ["FUNCS"]
