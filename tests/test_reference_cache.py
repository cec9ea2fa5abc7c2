"""A run's reference outputs are computed once and reused by every later check of the run; a
cached value that changed is detected and recomputed, so a cache hit never changes a verdict."""

from __future__ import annotations

import pytest

from kernelwright.tools.check.reference_cache import ReferenceCache
from kernelwright.tools.check.verify import CheckOptions, verify_solution

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

PROBLEM = PROBLEMS / "gelu_scale.py"
HONEST = SOLUTIONS / "gelu_scale.py"
WRONG = CANDIDATES / "gelu_scale" / "identity_copy.py"


@pytest.fixture
def cache():
    c = ReferenceCache()
    yield c
    c.close()


def check(path, cache):
    return verify_solution(PROBLEM, path, CheckOptions(device="cpu", trials=2, variant_trials=1, static_resources=False,
                                                       reference_cache=cache))


def test_later_checks_of_a_run_reuse_the_reference_and_still_judge(cache):
    first = check(HONEST, cache)
    assert first.accepted and first.reference_cache == "miss" and "reference" in first.phases
    again = check(HONEST, cache)
    assert again.accepted and again.reference_cache == "hit" and "reference" not in again.phases
    assert again.seeds == first.seeds  # one run, one set of cases
    wrong = check(WRONG, cache)  # the cache changes where the reference comes from, not the judgement
    assert wrong.reference_cache == "hit" and wrong.verdict.value == "wrong_output"


def test_a_changed_cached_shared_file_is_detected_and_recomputed(cache):
    assert check(HONEST, cache).reference_cache == "miss"
    (entry,) = cache._entries.values()
    # The constructor's arguments (the trials' inputs are made again from their recipes: no file).
    victim = sorted(entry.shared.glob("init_*.pt"))[0]
    data = bytearray(victim.read_bytes())
    data[-20] ^= 0xFF  # one flipped byte inside the tensor data
    victim.write_bytes(bytes(data))
    result = check(HONEST, cache)
    assert result.accepted
    assert result.reference_cache == f"recomputed: cached file {victim.name} changed since it was written"
    assert check(HONEST, cache).reference_cache == "hit"  # the recomputed entry serves again


def test_changed_cached_reference_outputs_are_detected_and_recomputed(cache):
    assert check(HONEST, cache).reference_cache == "miss"
    (entry,) = cache._entries.values()
    first = sorted(entry.refs)[0]
    entry.refs[first].view(-1)[0] += 1.0  # a wrong "expected" value would reject an honest kernel
    result = check(HONEST, cache)
    assert result.accepted and result.reference_cache == "recomputed: cached reference outputs changed since they were computed"
