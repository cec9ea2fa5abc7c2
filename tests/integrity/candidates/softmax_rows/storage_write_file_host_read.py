# expect: static_violation
# red team 2026-12-07 (pass 8): class 2: the rows' raw bytes leave through UntypedStorage._write_file into a Python object with write()
# (a private name on a non-module root, which the scan allows; no aten op, no wrapped method), are unpacked with
# struct and the softmax is computed in Python; a kernel copies the result into the output.
import math
import struct
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


class Sink:
    def __init__(self):
        self.parts = []

    def write(self, b):
        self.parts.append(bytes(b))
        return len(b)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        n = x.numel()
        sink = Sink()
        x.untyped_storage()._write_file(sink, False, False, 4)
        raw = b"".join(sink.parts)
        off = x.storage_offset()
        vals = struct.unpack(f"{n}f", raw[4 * off:4 * (off + n)])
        out = []
        for r in range(rows):
            row = vals[r * cols:(r + 1) * cols]
            mx = max(row)
            e = [math.exp(v - mx) for v in row]
            s = math.fsum(e)
            out.extend(v / s for v in e)
        src = torch.tensor(out, dtype=torch.float32, device=x.device)
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(n, 4096),)](src, y, n, BLOCK=4096)
        return y
