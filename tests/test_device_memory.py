"""The reference worker at sizes that fill a GPU (KernelBench's 19_ReLU: 6.4 GB a tensor): the
stress search's float64 error is taken in chunks, a trial that runs out of device memory moves the
held outputs to the host and runs once more, and what cannot be made to fit is a checker failure
naming it, never a verdict. The device itself is exercised by the GPU test at the end; the CPU tests
drive the same code with the allocator's error raised where a GPU would raise it."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch

from kernelwright.tools.check import compare
from kernelwright.tools.check.plan import CasePlan, VariantPlan
from kernelwright.tools.worker import reference, trials
from kernelwright.tools.worker.reference_compare import HeldOutputs
from kernelwright.tools.worker.reference_protocol import ReferenceRequest

TOLERANCES = {"fp32": [1e-4, 1e-4, 1e-3], "16bit": [1e-2, 1e-2, 1e-2]}
PROBLEM = textwrap.dedent(
    """
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def forward(self, x):
            return torch.relu(x)


    def get_inputs():
        return [torch.randn(16, 40)]


    def get_init_inputs():
        return []
    """
)


def _whole_error_share(out: torch.Tensor, exact: torch.Tensor, strict: bool) -> float:
    """The definition, on whole tensors: max |out - exact| / (|exact| * rtol + atol_eff)."""
    atol, rtol, kappa = TOLERANCES["fp32"]
    o, e = out.double(), exact.double()
    finite = torch.isfinite(e)
    biggest = float(e[finite].abs().max())
    bound = e[finite].abs() * rtol + (min(atol, kappa * biggest) if strict else atol)
    return float(((o[finite] - e[finite]).abs() / bound).max())


@pytest.mark.parametrize("strict", [True, False])
def test_the_stress_searchs_error_in_chunks_is_the_whole_tensors_error(monkeypatch, strict):
    gen = torch.Generator().manual_seed(5)
    exact = torch.randn(1000, generator=gen) * 3
    exact[[17, 700]] = float("inf")
    out = exact + torch.randn(1000, generator=gen) * 1e-4
    out[[17, 700]] = float("inf")
    out[999] += 0.5  # the worst element in the last chunk only
    whole = _whole_error_share(out, exact, strict)
    monkeypatch.setattr(compare, "CHUNK", 7)
    assert trials.error_share(out, exact, TOLERANCES, strict) == pytest.approx(whole, rel=1e-12)
    moved = out.clone()
    moved[300] = float("inf")  # non-finite where the reference is finite, in one chunk only
    assert trials.error_share(moved, exact, TOLERANCES, strict) == float("inf")


def _request(tmp_path, cases: int) -> ReferenceRequest:
    problem = tmp_path / "relu.py"
    problem.write_text(PROBLEM)
    for name in ("shared", "private"):
        (tmp_path / name).mkdir()
    return ReferenceRequest(device="cpu", problem_path=str(problem), shared_dir=str(tmp_path / "shared"), private_dir=str(tmp_path / "private"),
                            result_path=str(tmp_path / "result.json"), precision=None, mode="strict", serve=False, compare_here=True,
                            variants=[VariantPlan(name="shipped", kind="shipped", cases=[CasePlan(id=f"shipped-{i}", seed=i + 1) for i in range(cases)])])


def _out_of_memory_at(monkeypatch, trial: int) -> list[str]:
    """The allocator fails once, when the `trial`-th output is kept (as a GPU does past its memory)."""
    kept: list[str] = []
    real_keep = HeldOutputs.keep

    def keep(self, case_id, out):
        kept.append(case_id)
        if len(kept) == trial:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 12.00 GiB")
        return real_keep(self, case_id, out)

    monkeypatch.setattr(HeldOutputs, "keep", keep)
    return kept


def test_a_trial_out_of_device_memory_moves_the_held_outputs_to_the_host_and_runs_once_more(tmp_path, monkeypatch):
    kept = _out_of_memory_at(monkeypatch, trial=2)
    spilled: list[int] = []
    monkeypatch.setattr(HeldOutputs, "spill", lambda self: spilled.append(len(self.outputs)) or 1)  # as if one output was on the device
    req = _request(tmp_path, cases=3)
    assert reference.main(req.model_dump_json()) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["ok"] is True and result.get("checker_error") is None
    assert [c["id"] for c in result["variants"][0]["cases"]] == ["shipped-0", "shipped-1", "shipped-2"]  # each once, in order
    assert kept == ["shipped-0", "shipped-1", "shipped-1", "shipped-2"] and spilled == [1]


def test_out_of_device_memory_with_nothing_to_move_is_a_checker_failure_not_a_verdict(tmp_path, monkeypatch):
    _out_of_memory_at(monkeypatch, trial=1)
    req = _request(tmp_path, cases=2)
    assert reference.main(req.model_dump_json()) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["ok"] is False and result.get("error") is None and result["skipped_variants"] == []
    assert "trial shipped-0 ran out of device memory" in result["checker_error"]


@pytest.mark.gpu
def test_on_a_gpu_held_outputs_leave_room_for_the_next_trials_and_spill_to_the_host():
    from kernelwright.tools.worker.common import device_free
    from kernelwright.tools.worker.reference_compare import ROOM_TRIALS

    device = torch.device("cuda")
    held = HeldOutputs(device)
    small = torch.ones(1 << 20, device=device)
    held.keep("small", small)
    assert held.outputs["small"].device.type == "cuda" and held.on_device == small.numel() * 4
    # An output whose size times ROOM_TRIALS exceeds what is free goes to the host at once.
    elements = device_free(device) // (4 * ROOM_TRIALS) + (1 << 20)
    big = torch.empty(elements, device=device)
    held.keep("big", big)
    assert held.outputs["big"].device.type == "cpu"
    del big
    assert held.spill() == small.numel() * 4
    assert all(t.device.type == "cpu" for t in held.outputs.values()) and held.on_device == 0
