"""A solution's own reduce/scan combine functions under the CPU interpreter run as a tree of
whole-block calls (tools/worker/interpreter_tree.py): the same answers as the stock interpreter's
element-by-element fold, in log2(n) calls instead of one per element; a combine function written
for scalars only still runs."""

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

    @triton.jit
    def add(a, b):
        return a + b

    @triton.jit
    def max_first_index(v1, i1, v2, i2):  # ties broken on the index: commutative
        take = (v2 > v1) | ((v2 == v1) & (i2 < i1))
        return tl.where(take, v2, v1), tl.where(take, i2, i1)

    @triton.jit
    def affine(a1, b1, a2, b2):  # x -> a*x + b composed: associative, not commutative
        return a1 * a2, b1 * a2 + b2

    @triton.jit
    def scalar_max(a, b):  # a Python `if` on the operands: legal on the scalars a GPU passes
        if a > b:
            return a
        return b

    @triton.jit
    def reduce_kernel(x, out_sum, out_max, out_idx, out_all, R: tl.constexpr, C: tl.constexpr):
        r = tl.arange(0, R)
        c = tl.arange(0, C)
        v = tl.load(x + r[:, None] * C + c[None, :])
        tl.store(out_sum + c, tl.reduce(v, 0, add))
        idx = tl.broadcast_to(c[None, :], (R, C))
        m, i = tl.reduce((v, idx), 1, max_first_index)
        tl.store(out_max + r, m)
        tl.store(out_idx + r, i)
        tl.store(out_all, tl.reduce(v, None, add))

    @triton.jit
    def scan_kernel(a, b, out_a, out_b, out_rev, R: tl.constexpr, C: tl.constexpr):
        r = tl.arange(0, R)
        c = tl.arange(0, C)
        offs = r[:, None] * C + c[None, :]
        ea, eb = tl.associative_scan((tl.load(a + offs), tl.load(b + offs)), 1, affine)
        tl.store(out_a + offs, ea)
        tl.store(out_b + offs, eb)
        tl.store(out_rev + offs, tl.associative_scan(tl.load(b + offs), 1, add, reverse=True))

    @triton.jit
    def scalar_kernel(x, out, C: tl.constexpr):
        tl.store(out, tl.reduce(tl.load(x + tl.arange(0, C)), 0, scalar_max))

    calls = {}
    for name, fn in (("add", add), ("max_first_index", max_first_index), ("affine", affine)):
        def counted(*a, _f=fn.fn, _n=name):
            calls[_n] = calls.get(_n, 0) + 1
            return _f(*a)
        fn.fn = counted

    g = torch.Generator().manual_seed(0)
    R, C = 4, 64
    x = torch.randint(-5, 5, (R, C), generator=g).to(torch.int32)  # small integers: many ties, exact sums
    s, m, i, a = torch.empty(C, dtype=torch.int32), torch.empty(R, dtype=torch.int32), torch.empty(R, dtype=torch.int32), torch.empty(1, dtype=torch.int32)
    reduce_kernel[(1,)](x, s, m, i, a, R=R, C=C)
    sa = torch.randint(-2, 3, (R, C), generator=g).to(torch.int64)
    sb = torch.randint(-2, 3, (R, C), generator=g).to(torch.int64)
    oa, ob, orev = torch.empty_like(sa), torch.empty_like(sb), torch.empty_like(sb)
    scan_kernel[(1,)](sa, sb, oa, ob, orev, R=R, C=C)
    y = torch.randn(16, generator=g)
    top = torch.empty(1)
    scalar_kernel[(1,)](y, top, C=16)
    print(json.dumps({
        "sum_ok": s.tolist() == x.sum(0).tolist(),
        "max_ok": m.tolist() == x.max(1).values.tolist(),
        "idx_ok": i.tolist() == x.argmax(1).tolist(),  # torch: the first index of a tie
        "all_ok": a.item() == x.sum().item(),
        "scan": [oa.tolist(), ob.tolist(), orev.tolist()],
        "scan_rev_ok": orev.tolist() == sb.flip(1).cumsum(1).flip(1).tolist(),
        "scalar_ok": top.item() == y.max().item(),
        "calls": calls,
    }))
''')


def run_child(mode: str) -> dict:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def both() -> tuple[dict, dict]:
    return run_child("stock"), run_child("patched")


def test_tree_gives_the_folds_answers(both: tuple[dict, dict]) -> None:
    stock, tree = both
    for result in (stock, tree):
        assert result["sum_ok"] and result["max_ok"] and result["idx_ok"] and result["all_ok"]
        assert result["scan_rev_ok"] and result["scalar_ok"]
    # An associative but order-sensitive scan (composing affine maps): the same integers both ways.
    assert tree["scan"] == stock["scan"]


def test_tree_makes_log_n_calls_where_the_fold_made_one_per_element(both: tuple[dict, dict]) -> None:
    stock, tree = both
    # The stock fold: one call per element but the first of each row or column.
    assert stock["calls"]["max_first_index"] == 4 * 63
    assert stock["calls"]["affine"] == 4 * 63
    # The tree: log2(64) = 6 steps for a row of 64, 2 for a column of 4; the whole 4 x 64 (256 > 128
    # lanes): 1 step of each lane folding its second element, then log2(128) = 7.
    assert tree["calls"]["max_first_index"] == 6
    assert tree["calls"]["affine"] == 6
    assert tree["calls"]["add"] == 2 + 8 + 6  # column sums, the whole block, the reverse scan
