"""Where a check compares the candidate's outputs with the reference's, as the judge asks for each
case (`judge.judge_candidate`): in the reference worker, which holds its outputs (on the GPU on a
GPU check; the usual way), or in this process, with the reference outputs a run's cache holds.

Either way the candidate's output is read only from the file whose digest its worker signed
(a rewritten file raises `RewrittenFile`, never reaches the unpickler) and compared by
`compare.compare_structure` then `compare.compare_values`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kernelwright.tools.check.compare import Comparison, compare_structure, compare_values
from kernelwright.tools.check.poison import PoisonPattern
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.problem import CheckerFailure
from kernelwright.tools.worker.common import RewrittenFile
from kernelwright.tools.worker.events import CandidateEvent, ResultEvent
from kernelwright.tools.worker.output_file import check_described
from kernelwright.tools.worker.output_share import SharedInbox, candidate_output
from kernelwright.tools.worker.reference_compare import MISSING
from kernelwright.tools.worker.reference_protocol import CaseComparison, CompareEntry

if TYPE_CHECKING:
    from kernelwright.tools.check.children import ReferenceChild, ReferenceOutputs


def output_file(out_dir: Path, case: str) -> Path:
    return out_dir / f"out_{case}.pt"


class OutputComparer(Protocol):
    def compare(self, event: ResultEvent) -> Comparison:
        """The comparison of the case's output; raises RewrittenFile for a file that is not the
        one the candidate's worker signed, CheckerFailure for a case the checker did not run."""
        ...


class ParentComparer:
    """In this process, with reference outputs it holds (a run's reference cache)."""

    def __init__(self, refs: ReferenceOutputs, out_dir: Path, options: Any, device: str, inbox: SharedInbox | None = None,
                 share_key: bytes = b"") -> None:
        self.refs, self.out_dir, self.options, self.device = refs, out_dir, options, device
        self.inbox, self.share_key = inbox, share_key  # where outputs handed over sealed arrive, and who signs them

    def compare(self, event: ResultEvent) -> Comparison:
        if event.case not in self.refs:
            raise CheckerFailure(f"no reference output for case {event.case!r} (this is not a verdict)")
        ref = self.refs[event.case]
        wrong = compare_structure(event.output, ref, self.device)  # the signed description first, as the worker does
        if wrong:
            return wrong
        out = candidate_output(event.case, event.shared, self.inbox, self.share_key, output_file(self.out_dir, event.case), event.output_digest)
        check_described(out, event.output)
        return compare_values(
            out, ref, self.options.mode, self.options.tolerances, PoisonPattern.from_json(event.poison))


class WorkerComparer:
    """In the reference worker: every case the candidate finished goes in one command, at the
    first question (the worker stops at the first output that differs: the judge stops there too)."""

    def __init__(self, reference: ReferenceChild, events: list[CandidateEvent], out_dir: Path, options: Any, share_key: bytes = b"") -> None:
        self.reference, self.out_dir, self.options, self.share_key = reference, out_dir, options, share_key
        self.results = [ev for ev in events if isinstance(ev, ResultEvent)]
        self.answers: dict[str, CaseComparison] | None = None

    def compare(self, event: ResultEvent) -> Comparison:
        if self.answers is None:
            entries = [CompareEntry(case=ev.case, file=str(output_file(self.out_dir, ev.case)), digest=ev.output_digest or "",
                                    shared=ev.shared, output=ev.output, poison=ev.poison) for ev in self.results]
            table = {name: list(values) for name, values in self.options.tolerances.table.items()}
            self.answers = self.reference.compare(entries, table, self.share_key)
        answer = self.answers.get(event.case)
        if answer is None or answer.verdict == MISSING:
            why = answer.message if answer else "the reference worker did not compare it"
            raise CheckerFailure(f"case {event.case}: {why} (this is not a verdict)")
        if answer.rewritten:
            raise RewrittenFile(answer.rewritten)
        try:
            verdict = Verdict(answer.verdict)
        except ValueError:
            raise CheckerFailure(f"case {event.case}: the reference worker answered {answer.verdict!r} (this is not a verdict)") from None
        return Comparison(verdict, answer.message, answer.max_abs_err, answer.rel_err, answer.tolerance)
