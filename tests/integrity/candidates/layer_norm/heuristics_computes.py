# expect: torch_compute
# a triton.heuristics callable computes the layer norm with torch when the launch resolves its meta-parameters.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def _block(args):
    x, y, w, b = args["x_ptr"], args["y_ptr"], args["w_ptr"], args["b_ptr"]
    y.copy_(torch.nn.functional.layer_norm(x, (args["n_cols"],), w, b, 1e-5))
    return 1024


@triton.heuristics({"BLOCK": _block})
@triton.jit
def touch_kernel(x_ptr, y_ptr, w_ptr, b_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    tl.store(y_ptr + row * n_cols + cols, tl.load(y_ptr + row * n_cols + cols, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.ln = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        touch_kernel[(x.shape[0],)](x, y, self.ln.weight, self.ln.bias, x.shape[1])
        return y
