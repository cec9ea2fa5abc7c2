"""The two sandboxed children of one check, as the parent drives them.

Both start together, so the candidate's start-up (importing torch and Triton, the CUDA context,
Triton's driver build) overlaps the reference's work. The candidate receives its event-log key
and its cases only once the reference outputs are in the parent's memory and deleted from disk.

- reference child: writes inputs and weights, keeps its outputs, then stays up to compare the
  candidate's outputs with them and (when the check is timed) to time the reference eager
  before and after the candidate, on signed commands. In a run with a reference cache it writes
  its outputs for the parent instead, which compares them.
- candidate child: runs the cases under the runtime guards, then (when the check is timed and the
  parent accepted the outputs) times the candidate in the same process, guards still installed.

Order on a GPU: reference outputs -> candidate checks -> (parent judges) -> eager before ->
candidate timed -> candidate process ends -> compile baselines -> eager after (+ reference outputs
of the timed inputs). No reference timing ever runs while candidate code is alive, except eager
"before", which only the minimum of the two eager runs uses.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernelwright.tools.check import scratch_budget
from kernelwright.tools.check.plan import VariantPlan
from kernelwright.tools.problem import CheckerFailure, InputError, Problem
from kernelwright.tools.sandbox.child import ChildResult, start_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.worker.candidate_protocol import (
    CandidateRequest,
    CandidateVariant,
    CheckCommand,
    TimeCandidateCommand,
)
from kernelwright.tools.worker.events import FINAL_EVENTS, CandidateEvent, parse_events
from kernelwright.tools.worker.reference_protocol import (
    COMPARE_ANSWER,
    EAGER_TIMING,
    REPORT,
    CaseComparison,
    CompareCommand,
    CompareEntry,
    EagerTiming,
    ReferenceReport,
    ReferenceRequest,
    TimeEagerCommand,
)
from kernelwright.tools.worker.signed import KEY_BYTES, TamperedLog, command_line, read_event_bodies
from kernelwright.tools.worker.wire import from_child

if TYPE_CHECKING:
    import torch

WORKER = "kernelwright.tools.worker"
REFERENCE_STEP_TIMEOUT_S = 900.0  # max-autotune-sized eager timings are far below this
# The reference's trials wait at least this long whatever --timeout says: a short --timeout is for the
# candidate (a hang stopped in seconds), and the reference on a loaded machine took longer than 4 s.
REFERENCE_MIN_TIMEOUT_S = 60.0
MAX_SOCKET_PATH = 100  # a Unix socket's path holds at most 107 bytes (sun_path)


class TimingFailed(Exception):
    """The checker's own timing step failed (not the candidate's fault)."""


def _why(child: ChildResult) -> str:
    if child.timed_out:
        return "timed out"
    if child.signal_name:
        return child.signal_name
    lines = [ln for ln in child.stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {child.returncode}"


# Reference outputs by case id: a tensor, or a (nested) list of them, as the reference returned it
# (torch is imported lazily here: the parent starts the children before it imports torch).
ReferenceOutputs = dict[str, "torch.Tensor | list[Any]"]


def _read_json(path: Path, what: str) -> object:
    try:
        return json.loads(path.read_text())
    except ValueError:
        raise CheckerFailure(f"{what} is not JSON (this is not a verdict)") from None


class CheckFolder:
    """The folders of one check and who may touch them. The parent alone sees the root; each child
    sees the problem and solution copies and the requests read-only, its own home read-write, and
    only the exchange folders its role needs (the candidate never sees `private`)."""

    def __init__(self, root: Path, problem: Problem, solution_path: Path | None, shared: Path | None = None) -> None:
        self.root = root
        self.src, self.requests = root / "src", root / "requests"
        # `shared` given: the run's cached inputs and weights (see reference_cache), read-only to all.
        self.shared, self.private = shared or root / "shared", root / "private"
        self.reference_home, self.candidate_home = root / "reference", root / "candidate"
        # The candidate's outputs: written by its worker, read by the reference worker that compares them.
        self.candidate_out = self.candidate_home / "out"
        # Or handed over as sealed memory files through a socket the reference worker listens on
        # here (`output_share`); "" where the path is too long for a Unix socket (files then).
        self.inbox = root / "inbox"
        socket_path = self.inbox / "outputs.sock"
        self.share_path = str(socket_path) if len(str(socket_path)) < MAX_SOCKET_PATH else ""
        self.timed_ref, self.timed_cand = root / "timed_ref", root / "timed_cand"
        if shared is None:
            self.shared.mkdir()
        for d in (self.src / "problem", self.src / "solution", self.requests, self.private,
                  self.reference_home, self.candidate_out, self.timed_ref, self.timed_cand, self.inbox):
            d.mkdir(parents=True)
        # Copies: a child can neither rewrite the user's files nor see the folders they live in.
        self.problem_path = self.src / "problem" / problem.path.name
        self.problem_path.write_text(problem.file.source)
        # None: the reference alone runs (reference_probe.py), no candidate child is started.
        self.solution_path = self.src / "solution" / solution_path.name if solution_path else None
        if solution_path and self.solution_path:
            shutil.copyfile(solution_path, self.solution_path)

    def subfolder(self, name: str) -> Path:
        """A fresh folder for another child of this check (baselines, peaks, static compile)."""
        path = self.root / name
        path.mkdir(exist_ok=True)
        return path


class ReferenceChild:
    """`compare_here`: the worker keeps its outputs and compares the candidate's (`compare`);
    else it writes them for this process (`outputs`), as a run's reference cache needs."""

    def __init__(self, problem: Problem, variants: list[VariantPlan], device: str, opts: Any, folder: CheckFolder, serve: bool,
                 outputs: bool = True, compare_here: bool = False) -> None:
        self.problem, self.folder, self.timeout_s = problem, folder, opts.timeout_s
        self.compare_here = compare_here = compare_here and outputs
        serve = serve or compare_here
        self.shared, self.private = folder.shared, folder.private
        self.result_path = folder.reference_home / "reference.result.json"
        req = ReferenceRequest(problem_path=str(folder.problem_path), variants=variants, device=device, precision=opts.precision,
                               mode=opts.mode, shared_dir=str(self.shared), private_dir=str(self.private),
                               result_path=str(self.result_path), serve=serve, outputs=outputs, compare_here=compare_here,
                               budget=opts.scratch_budget or scratch_budget.measure(folder.root),
                               share_path=folder.share_path if compare_here and folder.share_path else None,
                               candidate_shares=bool(folder.share_path))
        request = folder.requests / "reference.request.json"
        request.write_text(req.model_dump_json())
        shared = (folder.shared,) if outputs else ()
        mounts = Mounts(readable=(folder.src, folder.requests, *(() if outputs else (folder.shared,)),
                                  *((folder.candidate_out,) if compare_here else ())),
                        writable=(*shared, folder.private, folder.timed_ref, *((folder.inbox,) if compare_here else ())))
        # On the CPU the reference is forked from the candidate's zygote (Triton's interpreter): a
        # check then needs one zygote's imports, not two (a Triton kernel in a reference could only
        # run interpreted on the CPU anyway); the compiler's zygote only where the sm_90 compile runs.
        env = {"TRITON_INTERPRET": "1"} if device == "cpu" else {}
        self.session = start_child([WORKER, "reference", str(request)], folder.reference_home, env, log_name="reference",
                                   mounts=mounts, policy=opts.sandbox, timeout_s=opts.timeout_s, device=device)
        self.key, self.seq = secrets.token_bytes(KEY_BYTES), 0
        if serve:
            self.session.send(self.key)

    def outputs(self) -> tuple[ReferenceOutputs, ReferenceReport]:
        """Reference outputs (now only in this process: deleted from disk; none when the worker
        compares) and the worker's report."""
        self.session.wait_until(self.result_path.exists, max(self.timeout_s, REFERENCE_MIN_TIMEOUT_S))
        if not self.result_path.exists():
            why = _why(self.session.close(grace_s=0))
            raise InputError(f"problem file {self.problem.path}: the reference failed to run ({why}); fix the problem file")
        report = from_child(REPORT, _read_json(self.result_path, "the reference's report"), "the reference's report")
        if report.checker_error:
            raise CheckerFailure(f"the checker could not prepare the reference outputs: {report.checker_error} "
                                 f"(free disk space in {self.private.parent} or memory; this is not a verdict)")
        if not report.ok:
            last = (report.error or "no error given").strip().splitlines()[-1]
            raise InputError(f"problem file {self.problem.path}: the reference itself fails to run: {last}")
        if self.compare_here:
            return {}, report
        from kernelwright.tools.worker.common import load_tensors  # torch: imported by now anyway

        # Read exactly the cases the report lists, never by glob: a stray or missing file is the
        # checker's failure, not a case that silently is or is not compared.
        refs: ReferenceOutputs = {}
        for variant in report.variants:
            for case in variant.cases:
                path = self.private / f"ref_{case.id}.pt"
                if not path.is_file():
                    raise CheckerFailure(f"the reference output of case {case.id} is missing from {self.private} (this is not a verdict)")
                refs[case.id] = load_tensors(path)
        shutil.rmtree(self.private)
        return refs, report

    def _ask(self, command: Any, result_path: Path, failed: type[Exception], what: str) -> object:
        """Send one signed command; the JSON the worker answers with at `result_path`. A worker that
        is gone or does not answer raises `failed` with `what` went wrong."""
        if not self.session.send(command_line(self.key, self.seq, command.model_dump_json())):
            raise failed(f"{what} failed: the reference process is gone ({_why(self.session.close(grace_s=0))})")
        self.seq += 1
        state = self.session.wait_until(result_path.exists, max(self.timeout_s, REFERENCE_STEP_TIMEOUT_S))
        if state != "ready":
            raise failed(f"{what} failed: {_why(self.session.close(grace_s=0))}")
        return _read_json(result_path, f"the reference's answer ({what})")

    def compare(self, entries: list[CompareEntry], tolerances: dict[str, list[float]], share_key: bytes = b"") -> dict[str, CaseComparison]:
        """The worker's comparison of each candidate output with its own, by case id, in order up to
        the first that is not accepted; it drops its outputs afterwards (asked once). `share_key`:
        the candidate's event-log key, which signs the outputs its worker handed over sealed."""
        result_path = self.folder.reference_home / "compare.result.json"
        command = CompareCommand(entries=entries, tolerances=tolerances, result_path=str(result_path), share_key=share_key.hex())
        data = self._ask(command, result_path, CheckerFailure, "comparing the outputs")
        answer = from_child(COMPARE_ANSWER, data, "the reference's comparison")
        return {c.case: c for c in answer.comparisons}

    def time(self, pool_seeds: list[int], outputs_dir: Path | None = None) -> EagerTiming:
        """Time the reference eager on the timing pool; with `outputs_dir`, also save its output
        for every pool slot (only ever asked once the candidate's process is gone)."""
        result_path = self.folder.reference_home / f"eager-{self.seq}.result.json"
        command = TimeEagerCommand(pool_seeds=pool_seeds, outputs_dir=str(outputs_dir) if outputs_dir else None, result_path=str(result_path))
        data = self._ask(command, result_path, TimingFailed, "timing reference eager")
        return from_child(EAGER_TIMING, data, "the reference's eager timing")

    def close(self) -> None:
        self.session.close()


class CandidateChild:
    def __init__(self, device: str, opts: Any, folder: CheckFolder, serve: bool, share: bool = False, share_device: bool = False) -> None:
        """`share`: hand the outputs over sealed to the inbox (the reference worker's, or this
        process's); `share_device`: GPU tensors too, as device allocations (the reference worker's only)."""
        self.folder, self.timeout_s = folder, opts.timeout_s
        share_path = folder.share_path if share else ""
        home = folder.candidate_home
        self.out_dir, self.events_path = folder.candidate_out, home / "candidate.events.jsonl"
        req = CandidateRequest(solution_path=str(folder.solution_path), problem_path=str(folder.problem_path), device=device,
                               precision=opts.precision, mode=opts.mode,
                               shared_dir=str(folder.shared), out_dir=str(self.out_dir), events_path=str(self.events_path),
                               poison=True, serve=serve, stop_on_torch_compute=not opts.allow_torch_ops, share_path=share_path,
                               share_device=bool(share_path) and share_device and device.startswith("cuda"))
        self.request, self.req = folder.requests / "candidate.request.json", req
        self.request.write_text(req.to_json())
        env = {"TRITON_INTERPRET": "1"} if device == "cpu" else {}
        mounts = Mounts(readable=(folder.src, folder.requests, folder.shared, *((folder.inbox,) if share_path else ())),
                        writable=(folder.timed_cand,))
        self.session = start_child([WORKER, "candidate", str(self.request)], home, env, log_name="candidate",
                                   mounts=mounts, policy=opts.sandbox, timeout_s=opts.timeout_s, device=device)
        self.isolation = self.session.isolation
        self.key, self.seq = secrets.token_bytes(KEY_BYTES), 0
        self.events: list[CandidateEvent] = []

    def _finished(self) -> bool:
        try:
            bodies = read_event_bodies(self.events_path, self.key)
            last = json.loads(bodies[-1]).get("event") if len(bodies) > len(self.events) else None
        except (TamperedLog, ValueError, AttributeError):
            return True  # stop waiting; reading the log again reports it
        return last in FINAL_EVENTS

    def _step(self, command: str, first: bool = False) -> tuple[ChildResult, list[CandidateEvent], str | None]:
        """Send one command (its JSON text); wait for the worker's next final event or its end.
        Returns the child (a snapshot while it still runs), the new events, and a message if the
        log was forged. A signed event that is not one the worker writes is a CheckerFailure."""
        data = (self.key if first else b"") + command_line(self.key, self.seq, command)
        self.seq += 1
        self.session.send(data)
        state = self.session.wait_until(self._finished, self.timeout_s)
        child = self.session.close(grace_s=0) if state == "timeout" else (self.session.snapshot() if self.session.alive else self.session.close())
        try:
            bodies = read_event_bodies(self.events_path, self.key)
        except TamperedLog as exc:
            self.close()
            return child, [], f"the candidate's process wrote into the checker's event log ({exc})"
        new = parse_events(bodies[len(self.events):])
        self.events = [*self.events, *new]
        return child, new, None

    def check(self, variants: list[CandidateVariant]) -> tuple[ChildResult, list[CandidateEvent], str | None]:
        """Run every case under the guards (the key goes with this first command)."""
        # Also in the request file, the complete record of what the worker was asked (--keep-workdir).
        # Atomically: the child may still be starting and read this file while it is replaced (a
        # plain rewrite let a slow start read it half-written and crash as the candidate's fault).
        partial = self.request.with_name(self.request.name + ".partial")
        partial.write_text(dataclasses.replace(self.req, variants=tuple(variants)).to_json())
        partial.replace(self.request)
        return self._step(CheckCommand(variants=tuple(variants)).to_json(), first=True)

    def time(self, pool_seeds: list[int], problem: Problem, outputs_dir: Path) -> tuple[ChildResult, list[CandidateEvent], str | None]:
        """Time the candidate in its checked process; the process is killed afterwards, before its
        timed outputs are read and anything else is timed. Killed, not closed: a closed input
        would let its exit handlers and finalisers run, and race the parent's re-check of the
        outputs (rewritten or erased while they are read); killed, nothing of it runs after its
        last report (a thread started earlier is the runtime audit's, a file changed before it
        died the signed digests')."""
        command = TimeCandidateCommand(pool_seeds=tuple(pool_seeds), problem_path=str(self.folder.problem_path),
                                       problem_source=problem.file.source, outputs_dir=str(outputs_dir))
        child, new, tampered = self._step(command.to_json())
        final = self.session.kill()
        return (child if child.timed_out else final), new, tampered

    def close(self) -> None:
        self.session.close()
