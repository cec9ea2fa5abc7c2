"""bf16 arithmetic under the CPU interpreter (tools/worker/interpreter_bf16.py): the stock
interpreter applies numpy to bf16 bit patterns as integers; with the fidelity patches a kernel's
bf16 add, multiply, maximum, negation, comparison, fma and clamp give torch's bf16 answers bit for
bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(r'''
    import sys, json
    from kernelwright.tools.worker import interpreter_fidelity as fidelity
    if sys.argv[1] == "patched":
        fidelity.install()
    import torch, triton, triton.language as tl

    @triton.jit
    def ops(x, r, out_add, out_mul, out_max, out_neg, out_lt, out_fma, out_clamp, N: tl.constexpr):
        o = tl.arange(0, N)
        a = tl.load(x + o)
        b = tl.load(r + o)
        tl.store(out_add + o, a + b)
        tl.store(out_mul + o, a * b)
        tl.store(out_max + o, tl.maximum(a, b))
        tl.store(out_neg + o, -a)
        tl.store(out_lt + o, (a < b).to(tl.int32))
        tl.store(out_fma + o, tl.fma(a, b, a))
        tl.store(out_clamp + o, tl.clamp(a, -tl.abs(b), tl.abs(b)))

    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, generator=g) * 3).bfloat16()
    r = (torch.randn(64, generator=g) * 3).bfloat16()
    outs = [torch.empty_like(x) for _ in range(4)] + [torch.empty(64, dtype=torch.int32)] + [torch.empty_like(x) for _ in range(2)]
    ops[(1,)](x, r, *outs, N=64)
    print(json.dumps({
        "add": torch.equal(outs[0], x + r), "mul": torch.equal(outs[1], x * r), "max": torch.equal(outs[2], torch.maximum(x, r)),
        "neg": torch.equal(outs[3], -x), "lt": outs[4].tolist() == (x < r).int().tolist(),
        "fma": torch.equal(outs[5], (x.double() * r.double() + x.double()).float().bfloat16()),
        "clamp": torch.equal(outs[6], torch.clamp(x, -r.abs(), r.abs())),
    }))
''')


def run_child(mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True,
                          env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bf16_operators_give_torchs_bits_where_the_stock_interpreter_did_not():
    assert run_child("patched") == {"add": True, "mul": True, "max": True, "neg": True, "lt": True, "fma": True, "clamp": True}
    stock = run_child("stock")
    assert not stock["add"] and not stock["max"]  # what the patches are for (seen on Triton 3.7+)
