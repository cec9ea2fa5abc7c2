"""The GPU witness (issue 16, class 4): the profiler's list of kernels that ran must hold only the
solution's kernels and data movement. The decision is tested here on recorded kernel names (as
CUPTI reports them on an H100); the end-to-end checks need a GPU (pytest -m gpu)."""

from __future__ import annotations

import pytest
from timing_cheats import timed_cheat

from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.check.witness import describe, judge_kernels, own_kernel_names

from paths import PROBLEMS, SOLUTIONS

FILL = "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, std::array<char*, 1ul> >(int, at::native::FillFunctor<float>, std::array<char*, 1ul>)"
COPY = (
    "void at::native::elementwise_kernel<128, 2, at::native::gpu_kernel_impl_nocast<at::native::direct_copy_kernel_cuda(at::TensorIteratorBase&)"
    "::{lambda()#3}::operator()() const::{lambda()#7}::operator()() const::{lambda(float)#1}>(at::TensorIteratorBase&, ...)::{lambda(int)#1}>(int, ...)"
)
CAT = "void at::native::(anonymous namespace)::CatArrayBatchedCopy<at::native::(anonymous namespace)::OpaqueType<4u>, unsigned int, 2, 128, 1>(...)"
MEMCPY = "Memcpy DtoD (Device -> Device)"
GELU = ("void at::native::vectorized_elementwise_kernel<4, at::native::GeluCUDAKernelImpl(at::TensorIteratorBase&, at::native::GeluType)"
        "::{lambda()#2}::operator()() const::{lambda()#2}::operator()() const::{lambda(float)#1}, std::array<char*, 2ul> >(int, ...)")
ADD = "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>)"
GEMM = "sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n_tilesize128x128x32_warpgroupsize1x1x1_execute_segment_k_off_kernel__5x_cublas"
SOFTMAX = "void at::native::(anonymous namespace)::cunn_SoftMaxForward<4, float, float, float, at::native::(anonymous namespace)::SoftMaxForwardEpilogue>(float*, float const*, int)"
SPIN = "spin_kernel(long)"

CUDA_SOURCE = '''
import torch
from torch.utils.cpp_extension import load_inline
src = """
__global__ void add_mul_kernel(const float* a, const float* b, float* y, int n) { }
template <int BLOCK> __global__ void __launch_bounds__(256) tiled_kernel(float* y) { }
"""
'''


def test_own_kernels_come_from_the_solutions_source():
    assert own_kernel_names((SOLUTIONS / "gelu_scale.py").read_text()) == {"gelu_scale_kernel"}
    assert own_kernel_names(CUDA_SOURCE) == {"add_mul_kernel", "tiled_kernel"}
    autotuned = "import triton\n@triton.autotune(configs=[], key=[])\n@triton.jit\ndef k(x):\n    pass\ndef helper():\n    pass\n"
    assert own_kernel_names(autotuned) == {"k"}


def test_the_solutions_kernels_and_data_movement_are_clean():
    own = frozenset({"gelu_scale_kernel"})
    t = judge_kernels(["gelu_scale_kernel", FILL, COPY, CAT, MEMCPY, SPIN], own)
    assert t.clean and t.own_seen


def test_mangled_cuda_kernels_are_recognised_by_their_identifier():
    own = own_kernel_names(CUDA_SOURCE)
    assert judge_kernels(["_Z14add_mul_kernelPKfS0_Pfi", "void tiled_kernel<128>(float*)"], own).clean
    assert not judge_kernels(["_Z15add_mul_kernel2PKfS0_Pfi"], own).clean  # another kernel whose name starts alike


@pytest.mark.parametrize("foreign", [GELU, ADD, GEMM, SOFTMAX], ids=["gelu", "add", "cublas-gemm", "softmax"])
def test_torch_compute_kernels_are_foreign(foreign):
    t = judge_kernels(["gelu_scale_kernel", FILL, foreign], frozenset({"gelu_scale_kernel"}))
    assert t.foreign == (foreign,)
    assert foreign[:40] in describe(t.foreign)


def test_no_own_kernel_is_reported():
    t = judge_kernels([COPY], frozenset({"gelu_scale_kernel"}))
    assert t.clean and not t.own_seen


# Honest while checked and for its first timed calls, then torch computes (the op accountant is
# not in the timed window): only the profiler sees it.
TORCH_WHEN_TIMED = """    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls <= CHECKED + 12:
            return self._kernel(x.contiguous())
        y = self._kernel(x.contiguous(), 1)
        y.copy_(torch.nn.functional.gelu(x) * self.scale + 0.5)
        return y
"""


@pytest.mark.gpu
def test_torch_compute_in_the_timed_calls_is_seen_by_the_profiler(tmp_path):
    cheat = timed_cheat(tmp_path, "torch_when_timed", TORCH_WHEN_TIMED, checked=5)
    r = verify_solution(PROBLEMS / "gelu_scale.py", cheat, CheckOptions(device="cuda", home=tmp_path, compile_baselines=()))
    assert all(t["ok"] for t in r.trials), r.trials
    assert r.verdict is Verdict.TORCH_COMPUTE, r.reasons
    assert any(x.check == "witness" and "Gelu" in x.message for x in r.reasons), r.reasons


@pytest.mark.gpu
@pytest.mark.parametrize("solution", ["gelu_scale", "softmax_rows", "layer_norm", "linear_relu", "gelu_scale_cuda"])
def test_the_witness_accepts_the_shipped_solutions(tmp_path, solution):
    problem = "gelu_scale" if solution == "gelu_scale_cuda" else solution
    r = verify_solution(PROBLEMS / f"{problem}.py", SOLUTIONS / f"{solution}.py", CheckOptions(device="cuda", home=tmp_path, compile_baselines=()))
    assert r.verdict is Verdict.ACCEPTED, r.reasons
