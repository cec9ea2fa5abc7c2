"""Triton's CPU interpreter with the checker's fidelity patches (tools/worker/interpreter_fidelity.py):
real kernels, run in a child process under TRITON_INTERPRET=1 (as the candidate worker runs them),
must compute what a GPU computes. Each check below failed on the stock interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(r'''
    import json, sys
    from kernelwright.tools.worker import interpreter_fidelity as fidelity
    if sys.argv[1] == "patched":
        fidelity.install()
    import torch, triton, triton.language as tl
    from triton.language.extra import libdevice as stub
    from triton.language.extra.cuda import libdevice

    out = {}

    def attempt(name, fn):
        try:
            out[name] = fn()
        except Exception as exc:
            chain, e = [], exc
            while e is not None:
                chain.append(type(e).__name__)
                e = e.__cause__ or e.__context__
            out[name] = {"error": chain}

    @triton.jit
    def unary(x, y, WHICH: tl.constexpr, B: tl.constexpr):
        o = tl.arange(0, B)
        v = tl.load(x + o)
        if WHICH == 0:
            r = libdevice.erf(v)
        elif WHICH == 1:
            r = stub.tanh(v)
        elif WHICH == 2:
            r = libdevice.pow(v, v)
        else:
            r = tl.inline_asm_elementwise("mov.b32 $0, $1;", "=r,r", [v], dtype=tl.float32, is_pure=True, pack=1)
        tl.store(y + o, r)

    @triton.jit
    def mm(a, b, c, B: tl.constexpr, P: tl.constexpr):
        i = tl.arange(0, B)
        A = tl.load(a + i[:, None] * B + i[None, :])
        Bm = tl.load(b + i[:, None] * B + i[None, :])
        tl.store(c + i[:, None] * B + i[None, :], tl.dot(A, Bm, input_precision=P))

    @triton.jit
    def mm_fp16_acc(a, b, c, B: tl.constexpr):
        i = tl.arange(0, B)
        A = tl.load(a + i[:, None] * B + i[None, :])
        Bm = tl.load(b + i[:, None] * B + i[None, :])
        acc = tl.zeros((B, B), dtype=tl.float16)
        tl.store(c + i[:, None] * B + i[None, :], tl.dot(A, Bm, acc, out_dtype=tl.float16).to(tl.float32))

    @triton.jit
    def racy_sum(x, out, N, B: tl.constexpr):
        o = tl.program_id(0) * B + tl.arange(0, B)
        tl.store(out, tl.load(out) + tl.sum(tl.load(x + o, mask=o < N, other=0.0)))

    @triton.jit
    def atomic_sum(x, out, N, B: tl.constexpr):
        o = tl.program_id(0) * B + tl.arange(0, B)
        tl.atomic_add(out, tl.sum(tl.load(x + o, mask=o < N, other=0.0)))

    @triton.jit
    def last_block_sum(x, partial, counter, out, N, B: tl.constexpr):
        # The "last block" reduction: partials with plain stores, published by an atomic ticket.
        pid = tl.program_id(0)
        o = pid * B + tl.arange(0, B)
        tl.store(partial + pid, tl.sum(tl.load(x + o, mask=o < N, other=0.0)))
        ticket = tl.atomic_add(counter, 1)
        if ticket == tl.num_programs(0) - 1:
            p = tl.arange(0, 16)
            tl.store(out, tl.sum(tl.load(partial + p, mask=p < tl.num_programs(0), other=0.0)))

    @triton.jit
    def own_writes(x, y, B: tl.constexpr):
        # A program reads back what it stored itself: unaffected.
        o = tl.program_id(0) * B + tl.arange(0, B)
        tl.store(y + o, tl.load(x + o) * 2)
        tl.store(y + o, tl.load(y + o) + 1)

    @triton.jit
    def bf16_round(x, y, B: tl.constexpr):
        o = tl.arange(0, B)
        tl.store(y + o, tl.load(x + o).to(tl.bfloat16))

    torch.manual_seed(0)

    def run_unary(which, x, ref):
        y = torch.empty(64)
        unary[(1,)](x, y, WHICH=which, B=64)
        return float((y - ref).abs().max())

    def run_dot(kernel, a, b, **kw):
        c = torch.empty(32, 32)
        kernel[(1,)](a, b, c, B=32, **kw)
        return float((c - a.double() @ b.double()).abs().max())

    x = torch.randn(64)
    for which, inp, ref in ((0, x, torch.erf(x)), (1, x, torch.tanh(x)), (2, x.abs(), x.abs() ** x.abs()), (3, x, x)):
        attempt(f"unary{which}", lambda: run_unary(which, inp, ref))
    for dt in ("float32", "bfloat16"):
        for p in ("ieee", "tf32", "tf32x3"):
            a, b = torch.randn(32, 32).to(getattr(torch, dt)), torch.randn(32, 32).to(getattr(torch, dt))
            attempt(f"dot_{dt}_{p}", lambda: run_dot(mm, a, b, P=p))
    a, b = torch.randn(32, 32).half() * 30, torch.randn(32, 32).half() * 30
    attempt("dot_fp16_acc", lambda: run_dot(mm_fp16_acc, a, b))
    out["numerics"] = fidelity.drain_numerics() if sys.argv[1] == "patched" else []
    x = torch.randn(1000)
    for name, kernel in (("racy", racy_sum), ("atomic", atomic_sum)):
        total = torch.zeros(1)
        kernel[(8,)](x, total, 1000, B=128)
        out[name] = float((total - x.sum()).abs())
    partial, counter, total = torch.zeros(8), torch.zeros(1, dtype=torch.int32), torch.zeros(1)
    last_block_sum[(8,)](x, partial, counter, total, 1000, B=128)
    out["last_block"] = float((total - x.sum()).abs())
    y = torch.empty(256)
    own_writes[(4,)](x[:256].contiguous(), y, B=64)
    out["own_writes"] = float((y - (x[:256] * 2 + 1)).abs().max())
    v = torch.tensor([1.0 + 2.0 ** -8 + 2.0 ** -9, 1.0 + 2.0 ** -9])  # 1 + 1.5 ulp -> up, a tie -> even (down)
    y = torch.empty(2, dtype=torch.bfloat16)
    bf16_round[(1,)](v, y, B=2)
    out["bf16_round"] = (y.float() == v.to(torch.bfloat16).float()).tolist()
    print(json.dumps(out))
''')


def run_child(mode: str, tmp_path) -> dict:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    proc = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    return run_child("patched", tmp_path_factory.mktemp("fidelity"))


def test_libdevice_runs_on_the_cpu_and_what_cannot_asks_for_a_gpu(patched):
    assert patched["unary0"] < 1e-6 and patched["unary1"] < 1e-6 and patched["unary2"] < 1e-4
    assert "NeedsGpu" in patched["unary3"]["error"], patched["unary3"]


def test_dots_compute_what_the_tensor_cores_compute(patched):
    # bf16 operands are exact in fp32 products (the stock interpreter multiplied bit patterns).
    assert patched["dot_bfloat16_ieee"] < 1e-4
    # fp32: ieee and tf32x3 at fp32 level; TF32 with the error of 10-bit mantissas.
    assert patched["dot_float32_ieee"] < 1e-4 and patched["dot_float32_tf32x3"] < 1e-4
    assert patched["dot_float32_tf32"] > 1e-3
    # fp16 accumulation of products of size ~1e3 over K=32 loses far more than fp32 would.
    assert patched["dot_fp16_acc"] > 0.5
    records = {(r["a"], r["acc"], r["precision"]) for r in patched["numerics"] if r["op"] == "dot"}
    assert ("fp32", "fp32", "tf32") in records and ("fp32", "fp32", "ieee") in records and ("fp16", "fp16", "native") in records
    assert all(r["kernel"] in ("mm", "mm_fp16_acc") for r in patched["numerics"])


def test_programs_run_as_if_at_once(patched):
    assert patched["racy"] > 1.0, "a plain read-modify-write of one total by 8 programs loses all but one"
    assert patched["atomic"] < 1e-4 and patched["last_block"] < 1e-4, "atomics publish and order as on the GPU"
    assert patched["own_writes"] == 0.0


def test_bf16_conversion_rounds_to_nearest_even(patched):
    assert patched["bf16_round"] == [True, True]


def test_each_check_fails_on_the_stock_interpreter(tmp_path):
    stock = run_child("stock", tmp_path)
    assert "error" in stock["unary0"] and "NeedsGpu" not in stock["unary3"]["error"]
    assert stock["dot_bfloat16_ieee"] > 1e3 and stock["dot_float32_tf32"] < 1e-4
    assert stock["racy"] < 1e-4
    assert stock["bf16_round"] != [True, True]
