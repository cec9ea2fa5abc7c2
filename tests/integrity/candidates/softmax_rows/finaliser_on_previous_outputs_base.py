# expect: wrong_output
# red team pass 10: as finaliser_on_previous_output, the holder on the output's base (outside inference_mode a view keeps it).
# attempt c03 (c02 made robust: cheats only when the previous call ran outside inference_mode, where a view keeps its base alive): like c01 but the __del__ holder hangs on the BASE of the previous output (output is a view y = base.view(...)); the base's PyObject is preserved by the view, freed when the worker drops the previous output before save -> torch.softmax fixes this output; attributes_set on the output itself sees nothing
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, x_row_stride, y_row_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    y = e / tl.sum(e, axis=0)
    tl.store(y_ptr + row * y_row_stride + cols, y, mask=mask)


@triton.jit
def fill_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.zeros([BLOCK], dtype=tl.float32), mask=offs < n)


class _Job:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __del__(self):
        with torch.inference_mode():
            self.y.copy_(torch.softmax(self.x, dim=-1))
        _state["fixed"] += 1


_state = {"prev": None, "fixed": 0, "tracked": False}


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.contiguous()
        n_rows, n_cols = x2.shape
        base = torch.empty(x2.numel(), device=x2.device, dtype=x2.dtype)
        y = base.view(n_rows, n_cols)
        prev = _state["prev"]
        if prev is None or not _state["tracked"]:
            softmax_kernel[(n_rows,)](x2, y, n_cols, x2.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(n_cols))
        else:
            n = y.numel()
            fill_kernel[(triton.cdiv(n, 1024),)](y, n, BLOCK=1024)
            prev.job = _Job(x, y)
        _state["prev"] = base
        _state["tracked"] = not torch.is_inference_mode_enabled()
        base = None
        return y
