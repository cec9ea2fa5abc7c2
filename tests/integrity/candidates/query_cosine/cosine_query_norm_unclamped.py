# expect: wrong_output
# red team 2026-12-07 (pass 6): fragile (class 2): cosine(query, keys) clamping ||key|| at eps as the reference but not ||query||: a zero query
# gives 0/0 = NaN (the reference gives 0). The query is (1, D): the ties trial's "slice along the first dimension
# of 2 or more" is then the last dimension again, so only one element of the query is zeroed, never its norm.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def cosine_kernel(q_ptr, k_ptr, out_ptr, n_cols, eps, CLAMP_Q: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    q = tl.load(q_ptr + cols, mask=mask, other=0.0)
    k = tl.load(k_ptr + row * n_cols + cols, mask=mask, other=0.0)
    qn = tl.sqrt(tl.sum(q * q, axis=0))
    if CLAMP_Q:
        qn = tl.maximum(qn, eps)
    kn = tl.maximum(tl.sqrt(tl.sum(k * k, axis=0)), eps)
    tl.store(out_ptr + row, tl.sum((q / qn) * (k / kn), axis=0))


class ModelNew(nn.Module):
    CLAMP_Q = False

    def __init__(self):
        super().__init__()

    def forward(self, query, keys):
        query = query.contiguous()
        keys = keys.contiguous()
        n = keys.shape[-1]
        out = torch.empty(keys.shape[0], device=keys.device, dtype=keys.dtype)
        cosine_kernel[(keys.shape[0],)](query, keys, out, n, 1e-8, CLAMP_Q=self.CLAMP_Q, BLOCK=triton.next_power_of_2(n))
        return out
