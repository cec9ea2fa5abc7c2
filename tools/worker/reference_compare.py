"""The reference worker's side of comparing: it keeps its outputs and compares the candidate's
with them where they are, so a check moves each output across a process boundary once (the
candidate's, as its signed file) instead of three times (the reference's file, the parent's read
of it, the candidate's), and compares on the GPU on a GPU check.

Outputs stay on the device up to DEVICE_SHARE of its memory (the candidate's process needs the
rest while it runs), the rest in this process's memory. The candidate's files are read only when
they are regular files holding exactly the bytes its worker signed (`output_file.read_output`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.check.compare import Comparison, compare_structure, compare_values
from kernelwright.tools.check.poison import PoisonPattern
from kernelwright.tools.check.tolerance import Tolerances
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.worker.common import (
    RewrittenFile,
    device_free,
    tensor_bytes,
    write_json_atomic,
)
from kernelwright.tools.worker.output_file import check_described
from kernelwright.tools.worker.output_share import SharedInbox, candidate_output
from kernelwright.tools.worker.reference_protocol import CaseComparison, CompareAnswer, CompareCommand

DEVICE_SHARE = 0.25
# An output stays on the device only while this many more outputs of its size would still fit
# beside it: the next trial's inputs, its output, a perturbed copy and the stress search's scratch.
ROOM_TRIALS = 4
MISSING = "missing"  # not a verdict: the case the parent named is not one this worker ran


def _moved(out: Any, device: torch.device) -> Any:
    if isinstance(out, torch.Tensor):
        return out.detach().to(device)
    if isinstance(out, (list, tuple)):
        return type(out)(_moved(o, device) for o in out)
    return out


class HeldOutputs:
    """The reference outputs of a check, by case id, until the candidate's have been compared."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.outputs: dict[str, Any] = {}
        self.on_device = 0
        self.device_limit = int(torch.cuda.get_device_properties(device).total_memory * DEVICE_SHARE) if device.type == "cuda" else 0
        self.inbox: SharedInbox | None = None  # where the candidate's outputs arrive as sealed memory files

    def keep(self, case_id: str, out: Any) -> int:
        """Keep `out` (on the device while the share allows and the next trials keep room to
        run, else on the host); its bytes."""
        size = tensor_bytes(out)
        if self.device.type == "cuda" and self.on_device + size <= self.device_limit and device_free(self.device) >= ROOM_TRIALS * size:
            self.on_device += size
            self.outputs[case_id] = _moved(out, self.device)
        else:
            self.outputs[case_id] = _moved(out, torch.device("cpu"))
        return size

    def spill(self) -> int:
        """Move every output held on the device to the host (a trial ran out of device memory);
        the bytes moved."""
        moved, self.on_device = self.on_device, 0
        for case_id, out in self.outputs.items():
            self.outputs[case_id] = _moved(out, torch.device("cpu"))
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return moved

    def release(self) -> None:
        self.outputs.clear()
        self.on_device = 0
        if self.inbox is not None:  # asked once: the candidate's sealed outputs go too
            self.inbox.close()
            self.inbox = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def compare_case(held: HeldOutputs, entry: Any, tolerances: Tolerances, mode: str, share_key: bytes = b"") -> CaseComparison:
    if entry.case not in held.outputs:  # the parent reads a missing case as its own failure
        return CaseComparison(case=entry.case, verdict=MISSING, message=f"no reference output held for case {entry.case}")
    ref = held.outputs[entry.case]
    # The signed description first: a wrong type, shape or dtype is the verdict without reading the
    # file (a huge output of the wrong structure is never read; an int or a dict, which the format
    # carries as such, is an output_type, not a malformed file).
    comparison: Comparison | None = compare_structure(entry.output, ref, str(held.device))
    if comparison is None:
        try:
            out = candidate_output(entry.case, entry.shared, held.inbox, share_key, Path(entry.file), entry.digest,
                                   device=held.device if held.device.type == "cuda" else None)
            check_described(out, entry.output)
        except RewrittenFile as exc:
            return CaseComparison(case=entry.case, verdict=Verdict.STATIC_VIOLATION.value, rewritten=str(exc))
        with torch.no_grad():
            comparison = compare_values(out, ref, mode, tolerances, PoisonPattern.from_json(entry.poison), device=held.device)
    return CaseComparison(case=entry.case, verdict=comparison.verdict.value, message=comparison.message, max_abs_err=comparison.max_abs_err,
                          rel_err=comparison.rel_err, tolerance=comparison.tolerance)


def serve_compare(held: HeldOutputs, command: CompareCommand, mode: str) -> None:
    """Answer one CompareCommand: the entries in order, up to the first that is not accepted."""
    tolerances = Tolerances(table={name: (float(a), float(r), float(k)) for name, (a, r, k) in command.tolerances.items()})
    answers: list[CaseComparison] = []
    for entry in command.entries:
        answers.append(compare_case(held, entry, tolerances, mode, bytes.fromhex(command.share_key)))
        if answers[-1].verdict != Verdict.ACCEPTED.value:
            break
    held.release()
    write_json_atomic(Path(command.result_path), CompareAnswer(comparisons=answers).model_dump(mode="json"))
