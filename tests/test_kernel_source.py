"""The GPU compile's loader (`tools/worker/kernel_source.py`): kernels rebuilt from a file's syntax
tree, and the rules that keep what it compiles equal to what the interpreter ran."""

from __future__ import annotations

import textwrap

import pytest

from kernelwright.tools.worker.kernel_source import kernels_from_source

HEADER = "import math\nimport os\nimport triton\nimport triton.language as tl\n"


def load(tmp_path, body: str):
    path = tmp_path / "solution.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return kernels_from_source(str(path))


def test_module_code_does_not_run_and_constants_are_evaluated(tmp_path):
    source = load(tmp_path, """
        raise SystemExit("module code ran")
        A, B = tl.constexpr(16), tl.constexpr(2 ** 6)
        C = D = tl.constexpr(1.0 / math.sqrt(2.0))
        ON_GPU = tl.constexpr(os.getenv("TRITON_INTERPRET") != "1")
        try:
            from triton.language.extra.cuda import libdevice
        except ImportError:
            from triton.language.extra import libdevice

        @triton.jit
        def k(x_ptr, BLOCK: tl.constexpr):
            tl.store(x_ptr + tl.arange(0, A), tl.zeros([B], tl.float32)[:A] * C * D)

        def host_helper(**kwargs):
            return kwargs
    """)
    assert set(source.kernels) == {"k"} and source.unsound == {}
    globals_ = source.kernels["k"].fn.__globals__
    assert globals_["A"].value == 16 and globals_["B"].value == 64 and abs(globals_["C"].value - 0.7071) < 1e-3
    assert globals_["ON_GPU"].value is True and "libdevice" in globals_


@pytest.mark.parametrize(("body", "rule"), [
    ("""
        HOST = tl.constexpr(False)
        HOST: tl.constexpr = tl.constexpr(True)

        @triton.jit
        def k(x_ptr):
            if HOST:
                pass
     """, "binds more than once"),
    ("""
        if True:
            FLAG = tl.constexpr(1)

        @triton.jit
        def k(x_ptr):
            tl.store(x_ptr, FLAG)
     """, "does not evaluate"),
    ("""
        @triton.jit
        def k(x_ptr):
            if False:
                def k(x_ptr):
                    pass
     """, "defines a function"),
    ("""
        @triton.jit
        def k(x_ptr):
            tl.store(x_ptr, 1.0)
            '''
        def k(x_ptr):
            pass
            '''
     """, "line starting with 'def '"),
    ("""
        @triton.jit
        def k(x_ptr):
            if triton.knobs.runtime.interpret:
                tl.store(x_ptr, 1.0)
     """, "reads triton.knobs"),
    ("""
        @triton.jit
        def helper(x):
            return x if os.getenv("X") else x

        @triton.jit
        def k(x_ptr):
            tl.store(x_ptr, helper(1.0))
     """, "calls 'helper'"),
])
def test_kernels_whose_compile_could_differ_from_what_the_interpreter_ran_are_refused(tmp_path, body, rule):
    source = load(tmp_path, body)
    assert rule in source.unsound["k"], source.unsound
