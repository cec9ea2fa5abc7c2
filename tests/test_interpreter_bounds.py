"""Tensor-descriptor accesses are bounded like plain loads and stores, whatever path the installed
Triton's interpreter takes after computing their addresses (3.9 goes through a masked load; an
interpreter that reads the addresses itself would not)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from kernelwright.tools.worker import interpreter_bounds


class Descriptor:
    def __init__(self, addresses: list[int]) -> None:
        self.addresses = addresses

    def materialize_pointers(self, indices):
        return SimpleNamespace(data=np.array(self.addresses, dtype=np.uint64)), None


class Builder:
    """An interpreter builder whose descriptor ops read memory without a plain load."""

    def create_descriptor_load(self, desc, indices, cache_policy):
        return "loaded"

    def create_descriptor_store(self, desc, value, indices):
        return "stored"


@pytest.fixture
def launch():
    interpreter_bounds.install(Builder, lambda: "k")
    x = torch.zeros(16)
    interpreter_bounds.push((x,), {})
    yield x
    interpreter_bounds.pop()


def test_a_descriptor_access_inside_the_arguments_passes(launch):
    inside = Descriptor([launch.data_ptr(), launch.data_ptr() + 60])
    assert Builder().create_descriptor_load(inside, [0], None) == "loaded"
    assert Builder().create_descriptor_store(inside, None, [0]) == "stored"


@pytest.mark.parametrize("op", ["load", "store"])
def test_a_descriptor_reaching_past_its_tensor_stops_the_launch(launch, op):
    past = Descriptor([launch.data_ptr() + 60, launch.data_ptr() + 64])  # one element past the end
    with pytest.raises(interpreter_bounds.OutOfBoundsAccess, match=f"kernel k: descriptor_{op} touched 1 address"):
        if op == "load":
            Builder().create_descriptor_load(past, [0], None)
        else:
            Builder().create_descriptor_store(past, None, [0])
