# expect: accepted
# red team 2026-12-06 (pass 4): online (streaming) logsumexp per row over blocks of 256 with a running max and rescaled sum, the target logit gathered by its index in the same program; per-row losses into scratch, then a second kernel averages them (deterministic, no atomics).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_loss_kernel(x_ptr, t_ptr, loss_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    m = tl.full([BLOCK], float("-inf"), tl.float32)
    s = tl.zeros([BLOCK], tl.float32)
    for start in range(0, n_cols, BLOCK):
        c = start + cols
        x = tl.load(x_ptr + row * stride + c, mask=c < n_cols, other=float("-inf"))
        m_new = tl.maximum(m, x)
        s = s * tl.exp(tl.where(m == float("-inf"), 0.0, m - m_new)) + tl.where(x == float("-inf"), 0.0, tl.exp(x - m_new))
        m = m_new
    row_max = tl.max(m, axis=0)
    total = tl.sum(s * tl.exp(tl.where(m == float("-inf"), float("-inf"), m - row_max)), axis=0)
    tgt = tl.load(t_ptr + row)
    x_t = tl.load(x_ptr + row * stride + tgt)
    tl.store(loss_ptr + row, row_max + tl.log(total) - x_t)


@triton.jit
def mean_kernel(loss_ptr, out_ptr, n, BLOCK: tl.constexpr):
    acc = tl.zeros([BLOCK], tl.float32)
    for start in range(0, n, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        acc += tl.load(loss_ptr + offs, mask=offs < n, other=0.0)
    tl.store(out_ptr, tl.sum(acc, axis=0) / n)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, logits, targets):
        x = logits.contiguous()
        B, V = x.shape
        losses = torch.empty(B, dtype=torch.float32, device=x.device)
        row_loss_kernel[(B,)](x, targets.contiguous(), losses, V, x.stride(0), BLOCK=256)
        out = torch.empty((), dtype=logits.dtype, device=x.device)
        mean_kernel[(1,)](losses, out, B, BLOCK=256)
        return out
