"""The op accountant on its own: what counts as compute, as a host read, as a copy (issue 16,
classes 1, 2, 4 and 11). The integrity suite runs the same rules through whole checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from kernelwright.tools.check.op_accounting import OpAccountant, install_host_watch
from kernelwright.tools.check.poison import PoisonPattern, poisoned_mask

MODES = {"inference_mode": torch.inference_mode, "no_grad": torch.no_grad}

# Ops that only move or reinterpret data (class 11): allowed in both grad modes, where torch
# dispatches different ops for them (composites are decomposed outside inference mode).
LAYOUT = {
    ".T": lambda w, x: w.T,
    ".mT": lambda w, x: w[None].mT,
    ".mH": lambda w, x: w[None].mH,
    ".H": lambda w, x: w.H,
    "adjoint": lambda w, x: w.adjoint(),
    "swapaxes": lambda w, x: w.swapaxes(0, 1),
    "swapdims": lambda w, x: w.swapdims(0, 1),
    "moveaxis": lambda w, x: w[None].moveaxis(0, 2),
    "broadcast_to": lambda w, x: x.broadcast_to(w.shape),
    "type_as same dtype": lambda w, x: w.type_as(x),
    "tensor_split": lambda w, x: w.tensor_split(3, dim=1),
    "hsplit": lambda w, x: w.hsplit(2),
    "atleast_2d": lambda w, x: torch.atleast_2d(x),
    "atleast_3d": lambda w, x: torch.atleast_3d(w),
    "detach": lambda w, x: w.detach(),
    "constant pad": lambda w, x: F.pad(w, (1, 1)),
    "constant pad with value": lambda w, x: F.pad(w, (1, 1), value=2.0),
    "reflect pad": lambda w, x: F.pad(w[None], (1, 1), mode="reflect"),
    "flip": lambda w, x: w.flip(0),
    "roll": lambda w, x: w.roll(1),
    "repeat": lambda w, x: w.repeat(2, 1),
    "tile": lambda w, x: w.tile(2),
    "ravel": lambda w, x: w.ravel(),
    "contiguous of a transpose": lambda w, x: w.T.contiguous(),
    "cat": lambda w, x: torch.cat([w, w]),
    "torch.tensor constant": lambda w, x: torch.tensor([1.0, 2.0]),
}
ARITHMETIC = {
    "mul": lambda w, x: w * 2,
    "add through a transpose": lambda w, x: w.T + 1,
    "mm": lambda w, x: w @ w.T,
    "masked_fill": lambda w, x: w.masked_fill(w > 0, 0.0),
    "index_select (a gather: the work of an embedding)": lambda w, x: w.index_select(0, torch.tensor([0, 1])),
    "sum": lambda w, x: w.sum(),
}


def _run(fn, mode="inference_mode", **kwargs):
    w, x = torch.randn(4, 6), torch.randn(6)
    acc = OpAccountant(**kwargs)
    with MODES[mode](), acc:
        fn(w, x)
    return acc


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(LAYOUT))
def test_layout_ops_are_not_compute(name, mode):
    acc = _run(LAYOUT[name], mode)
    assert dict(acc.compute_ops) == {}, f"{name} under {mode}"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_arithmetic_stays_compute(name, mode):
    assert _run(ARITHMETIC[name], mode).compute_ops, f"{name} under {mode}"


def test_copies_count_their_bytes_views_do_not():
    w = torch.randn(64, 32)
    acc = OpAccountant()
    with torch.inference_mode(), acc:
        views = [w.T, w.view(32, 64), w.contiguous()]  # the last: already contiguous, no copy
    assert acc.moved_bytes == 0 and views[2] is w
    with torch.inference_mode(), acc:
        w.T.contiguous()
    assert acc.moved_bytes == w.nbytes
    with torch.inference_mode(), acc:
        torch.cat([w, w])
    assert acc.moved_bytes == 3 * w.nbytes


def test_renaming_an_op_does_not_make_it_allowed():
    """Allowed ops are known by identity (class 4): a packet renamed to "view" is still gelu."""
    packet = torch.ops.aten.gelu
    original = packet.__name__
    packet.__name__ = "view"
    try:
        acc = _run(lambda w, x: F.gelu(w))
    finally:
        packet.__name__ = original
    assert acc.compute_ops == {"gelu": 1}


def test_scalar_reads_of_forward_data_are_host_compute_parameters_are_not():
    install_host_watch()
    x = torch.randn(8)
    scale = torch.nn.Parameter(torch.tensor(1.5))
    acc = OpAccountant(inputs=(x,))
    with torch.inference_mode(), acc:
        float(scale)  # a constant of the model
        scale.item()
    assert not acc.host_ops
    with torch.inference_mode(), acc:
        float(x[0])  # the input
    assert sum(acc.host_ops.values()) == 1
    with torch.inference_mode(), acc:
        y = torch.empty(4)
        y.fill_(1.0)
        y.tolist()  # what the forward produced
    assert acc.host_ops["Tensor.tolist"] == 1


def test_python_per_element_methods_are_host_compute():
    install_host_watch()
    x = torch.randn(8)
    acc = OpAccountant(inputs=(x,))
    with torch.inference_mode(), acc:
        t = x.clone()
        t.apply_(lambda v: v * 2)
        t.map_(t, lambda a, b: a + b)
    assert acc.host_ops == {"Tensor.apply_": 1, "Tensor.map_": 1}
    t.apply_(lambda v: v)  # outside a checked call: not recorded
    assert acc.host_ops == {"Tensor.apply_": 1, "Tensor.map_": 1}


def test_host_exports_of_forward_data_are_recorded():
    install_host_watch()
    x = torch.randn(8)
    acc = OpAccountant(inputs=(x,))
    with acc:
        x.numpy()
    assert acc.host_ops == {"Tensor.numpy": 1}
    assert torch.Tensor.numpy.__name__ == "numpy" and not hasattr(torch.Tensor.numpy, "__wrapped__")


class _Wrapper(torch.Tensor):
    """A wrapper subclass with its own __torch_dispatch__: it runs with the accountant off."""

    @staticmethod
    def __new__(cls, inner):
        return torch.Tensor._make_wrapper_subclass(cls, inner.shape, dtype=inner.dtype)

    def __init__(self, inner):
        self.inner = inner

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return torch.mul(torch.ones(3), 2)  # invisible to the accountant


def test_ops_a_subclass_dispatches_itself_are_compute():
    wrapped = _Wrapper(torch.randn(3))
    acc = OpAccountant()
    with acc:
        wrapped.add(1)
    assert "add (handled by _Wrapper.__torch_dispatch__)" in acc.compute_ops


def test_fresh_allocations_get_the_calls_pattern():
    pattern = PoisonPattern.drawn()
    acc = OpAccountant(poison=pattern)
    with torch.inference_mode(), acc:
        y = torch.empty(16)
        z = torch.empty_like(y, dtype=torch.float16)
    assert bool(poisoned_mask(y, pattern).all()) and bool(poisoned_mask(z, pattern).all())
    assert not bool(poisoned_mask(y).any()) or pattern.bits[torch.float32] == PoisonPattern.fixed().bits[torch.float32]
