"""Comparing where the reference outputs are: in the reference worker, in chunks, on its device.

A check's reference outputs no longer travel to the parent (at KernelBench's full sizes each was a
6.4 GB file written, read and compared on the host): the worker keeps them and compares the
candidate's signed files with them (`tools/worker/reference_compare.py`). These tests hold the
new path to the old one's answers and its refusals. A whole check through the CLI, with the
reference's outputs never in the check's folder, is tests/test_check_cli.py's default run (kept).
"""

import json
import os
from pathlib import Path

import pytest
import torch

from kernelwright.tools.check import compare
from kernelwright.tools.check.compare import compare_values
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.worker.common import RewrittenFile
from kernelwright.tools.worker.events import OutputDescription
from kernelwright.tools.worker.output_file import read_output, write_output
from kernelwright.tools.worker.reference_compare import HeldOutputs, serve_compare
from kernelwright.tools.worker.reference_protocol import CompareAnswer, CompareCommand, CompareEntry

TOLERANCES = {"fp32": [1e-4, 1e-4, 1e-3], "16bit": [1e-2, 1e-2, 1e-2]}


def _outputs_with_faults():
    gen = torch.Generator().manual_seed(3)
    ref = torch.randn(5000, generator=gen) * 10
    late = ref.clone()
    late[4321] += 1.0  # in the last chunk only
    spread = ref.clone()
    spread[[10, 2222, 4999]] -= 0.5
    nonfinite = ref.clone()
    nonfinite[3000] = float("nan")
    return ref, {"equal": ref.clone(), "late": late, "spread": spread, "nonfinite": nonfinite, "tiny": ref + 1e-6}


@pytest.mark.parametrize("chunk", [7, 1000, 4096])
def test_a_chunked_comparison_gives_the_whole_tensors_answer_word_for_word(monkeypatch, chunk):
    ref, outs = _outputs_with_faults()
    whole = {name: compare_values(out, ref) for name, out in outs.items()}
    monkeypatch.setattr(compare, "CHUNK", chunk)
    for name, out in outs.items():
        parts = compare_values(out, ref)
        assert (parts.verdict, parts.message) == (whole[name].verdict, whole[name].message), name
        assert parts.max_abs_err == pytest.approx(whole[name].max_abs_err) if whole[name].max_abs_err is not None else parts.max_abs_err is None
    assert whole["late"].verdict is Verdict.WRONG_OUTPUT and "flat index 4321" in whole["late"].message
    assert whole["spread"].message.startswith("3 of 5000 elements") and "flat index 10" in whole["spread"].message
    assert whole["equal"].verdict is whole["tiny"].verdict is Verdict.ACCEPTED


def _command(tmp_path, outputs: dict[str, torch.Tensor], sha_override: dict[str, str] | None = None, device: str = "cpu") -> CompareCommand:
    entries = []
    for case, out in outputs.items():
        path = tmp_path / f"out_{case}.pt"
        sha = write_output(path, out)
        desc = OutputDescription(type="torch.Tensor", shape=list(out.shape), dtype=str(out.dtype).removeprefix("torch."), device=device)
        entries.append(CompareEntry(case=case, file=str(path), digest=(sha_override or {}).get(case, sha), output=desc, poison=None))
    return CompareCommand(entries=entries, tolerances=TOLERANCES, result_path=str(tmp_path / "answer.json"))


def _answer(tmp_path) -> CompareAnswer:
    return CompareAnswer.model_validate(json.loads((tmp_path / "answer.json").read_text()))


def test_the_worker_compares_in_order_stops_at_the_first_wrong_case_and_drops_its_outputs(tmp_path):
    ref, outs = _outputs_with_faults()
    held = HeldOutputs(torch.device("cpu"))
    for case in ("a", "b", "c"):
        held.keep(case, ref)
    serve_compare(held, _command(tmp_path, {"a": outs["tiny"], "b": outs["late"], "c": outs["equal"]}), "strict")
    answers = _answer(tmp_path).comparisons
    assert [(a.case, a.verdict) for a in answers] == [("a", "accepted"), ("b", "wrong_output")]
    assert answers[1].message == compare_values(outs["late"], ref).message  # the parent's words
    assert held.outputs == {}


def test_the_worker_refuses_a_rewritten_output_a_link_and_a_wrong_shape(tmp_path):
    ref, outs = _outputs_with_faults()
    held = HeldOutputs(torch.device("cpu"))
    for case in ("rewritten", "link", "shape"):
        held.keep(case, ref)
    command = _command(tmp_path, {"rewritten": outs["equal"]})
    Path(command.entries[0].file).write_bytes(Path(command.entries[0].file).read_bytes() + b"\0")
    serve_compare(held, command, "strict")
    first = _answer(tmp_path).comparisons[0]
    assert first.verdict == "static_violation" and "digest differs" in first.rewritten

    # A link in the candidate's folder to a file it could not write itself (the parent's or the
    # reference's): refused even when the digest matches the file behind it.
    for case in ("link", "shape"):
        held.keep(case, ref)
    target = tmp_path / "elsewhere.pt"
    sha = write_output(target, ref)
    os.symlink(target, tmp_path / "out_link.pt")
    link = CompareEntry(case="link", file=str(tmp_path / "out_link.pt"), digest=sha,
                        output=OutputDescription(type="torch.Tensor", shape=[5000], dtype="float32", device="cpu"), poison=None)
    serve_compare(held, CompareCommand(entries=[link], tolerances=TOLERANCES, result_path=str(tmp_path / "answer.json")), "strict")
    assert _answer(tmp_path).comparisons[0].rewritten and "cannot be opened" in _answer(tmp_path).comparisons[0].rewritten
    with pytest.raises(RewrittenFile):
        read_output(tmp_path / "out_link.pt", sha)  # the parent's reader, the same rule

    held.keep("shape", ref)
    serve_compare(held, _command(tmp_path, {"shape": ref[:4000]}), "strict")
    assert _answer(tmp_path).comparisons[0].verdict == "shape_mismatch"


def test_a_case_the_worker_does_not_hold_is_not_a_verdict(tmp_path):
    ref, outs = _outputs_with_faults()
    serve_compare(HeldOutputs(torch.device("cpu")), _command(tmp_path, {"unknown": ref}), "strict")
    assert _answer(tmp_path).comparisons[0].verdict == "missing"


@pytest.mark.gpu
def test_on_a_gpu_the_worker_keeps_its_outputs_on_the_device_and_compares_there(tmp_path):
    ref, outs = _outputs_with_faults()
    held = HeldOutputs(torch.device("cuda"))
    held.keep("a", ref)
    held.keep("b", ref)
    assert all(t.device.type == "cuda" for t in held.outputs.values())
    serve_compare(held, _command(tmp_path, {"a": outs["tiny"], "b": outs["spread"]}, device="cuda:0"), "strict")
    answers = _answer(tmp_path).comparisons
    assert [a.verdict for a in answers] == ["accepted", "wrong_output"]
    assert answers[1].message == compare_values(outs["spread"], ref).message  # the same words as on the host


def test_a_signed_file_whose_structure_is_not_the_described_one_is_the_candidates_static_violation(tmp_path):
    # Both the file and the description come from the candidate's process: a file that holds a
    # list, an int or another shape where the description names a tensor means its writer was not
    # the checker's. Refused before any comparison (red team pass 12 crashed the reader so).
    ref = torch.ones(8)
    for case, written in {"list": [ref], "other_shape": torch.ones(4), "other_dtype": torch.ones(8, dtype=torch.float64),
                          "int": {"slot": 1, "out": ref}, "honest": ref}.items():
        held = HeldOutputs(torch.device("cpu"))
        held.keep(case, ref)
        path = tmp_path / f"out_{case}.pt"
        desc = OutputDescription(type="torch.Tensor", shape=[8], dtype="float32", device="cpu")
        entry = CompareEntry(case=case, file=str(path), digest=write_output(path, written), output=desc, poison=None)
        serve_compare(held, CompareCommand(entries=[entry], tolerances=TOLERANCES, result_path=str(tmp_path / "answer.json")), "strict")
        answer = _answer(tmp_path).comparisons[0]
        if case == "honest":
            assert answer.verdict == "accepted", answer
        else:
            assert answer.verdict == "static_violation" and "the worker described" in answer.rewritten, (case, answer)
