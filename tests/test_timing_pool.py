"""How many input sets the timing pool draws (`tools/check/timing.py::_pool_seeds`): as many as the
card holds beside everything else the timing phase keeps there (an H100 ran out of memory timing
KernelBench's 19_ReLU with two, 2026-12-07)."""

from __future__ import annotations

from kernelwright.tools.check.timing import _pool_seeds

GB = 10**9
RELU_INPUT = 4096 * 393216 * 4  # 19_ReLU: one 6.4 GB fp32 tensor in, one out


def test_a_full_size_problem_gets_one_input_set_where_two_would_not_fit_and_two_where_they_do():
    assert len(_pool_seeds(RELU_INPUT, 2 * RELU_INPUT, 80 * GB)) == 1  # H100
    assert len(_pool_seeds(RELU_INPUT, 2 * RELU_INPUT, 141 * GB)) == 2  # H200


def test_small_problems_keep_their_pool_whatever_the_card():
    assert len(_pool_seeds(64 * 2**20, 128 * 2**20, 80 * GB)) == 4
    assert len(_pool_seeds(1 << 30, 2 << 30, 80 * GB)) == 2
    assert len(_pool_seeds(RELU_INPUT, 2 * RELU_INPUT, 0)) == 2  # no card size known (a CPU check times nothing): as before
    seeds = _pool_seeds(1024, 2048, 80 * GB)
    assert len(set(seeds)) == len(seeds)  # drawn, not repeated
