"""Human approval (`kernelwright run --approve plan|code`): a node after `plan` (or `code`) that
pauses the run with LangGraph's `interrupt`, shows what is to be approved, and goes on with the
person's answer when the run is resumed (`kernelwright resume RUN --answer ...`, or the prompt
on a terminal). The state is checkpointed while it waits, so the answer may come days later.

Answers: `approve` (also yes, y, ok), `reject [REASON]` (also no, n: the run finishes with the
reason as its stop reason), `edit: TEXT` (the plan is replaced by TEXT; for code, the candidate's
source, when the round has exactly one).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from langgraph.types import interrupt

from kernelwright.agents.records import ApprovalRecord, ApprovalRequest, CandidateShown
from kernelwright.agents.records.run_state import RunState
from kernelwright.tools.problem import InputError

APPROVABLE = ("plan", "code")
ANSWER_HELP = "approve | reject [REASON] | edit: NEW TEXT"
_APPROVE = {"approve", "approved", "yes", "y", "ok"}
_REJECT = re.compile(r"^(?:reject|rejected|no|n)\b[\s:,-]*(?P<reason>.*)$", re.IGNORECASE | re.DOTALL)
_EDIT = re.compile(r"^edit\s*:?\s*(?P<text>.*)$", re.IGNORECASE | re.DOTALL)


def approval_node(node: str) -> str:
    return f"approve_{node}"


@dataclass(frozen=True)
class Approval:
    decision: Literal["approve", "reject", "edit"]
    text: str = ""  # the reason of a rejection, the new text of an edit

    @classmethod
    def parse(cls, answer: str) -> Approval:
        """A person's answer; InputError (naming the accepted forms) for anything else."""
        text = (answer or "").strip()
        if text.lower() in _APPROVE:
            return cls("approve")
        if m := _REJECT.match(text):
            return cls("reject", m.group("reason").strip())
        if (m := _EDIT.match(text)) and m.group("text").strip():
            return cls("edit", m.group("text").strip())
        raise InputError(f"--answer {answer!r}: give {ANSWER_HELP}")

    @classmethod
    def of(cls, value: Any) -> Approval:
        """From what `Command(resume=...)` carried: an Approval's dict (the CLI) or a string (Studio)."""
        if isinstance(value, dict):
            return cls(value.get("decision", ""), value.get("text") or "") if value.get("decision") in ("approve", "reject", "edit") \
                else cls.parse(str(value.get("answer", "")))
        return cls.parse(str(value))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def request(node: str, state: RunState) -> ApprovalRequest:
    """What the person is shown: the round's plan, or its candidates' code."""
    round_ = state.get("iteration", 0)
    if node == "plan":
        plan = state.get("plan")
        return ApprovalRequest(approve=node, round=round_, answers=ANSWER_HELP, plan=plan.text if plan else "")
    return ApprovalRequest(approve=node, round=round_, answers=ANSWER_HELP,
                           candidates=tuple(CandidateShown(id=c.id, source=c.source) for c in state.get("pending") or []))


def approval_body(node: str):
    """The body of the approval node after `node` (plain: LangGraph re-runs it on resume, and
    everything before `interrupt` must be free of side effects)."""

    def body(state: RunState, ctx) -> RunState:
        # The interrupt's payload is JSON: LangGraph Studio shows it as it is.
        answer = Approval.of(interrupt(request(node, state).model_dump(mode="json", exclude_defaults=True)))
        record = ApprovalRecord(node=node, round=state.get("iteration", 0), decision=answer.decision, text=answer.text)
        if answer.decision == "approve":
            return {"approvals": [record]}
        if answer.decision == "reject":
            reason = f"the {node} of round {record.round} was rejected by a person" + (f": {answer.text}" if answer.text else "")
            return {"approvals": [record], "user_stop": reason, "pending": []}
        if node == "plan":
            return {"approvals": [record], "plan": answer.text}
        pending = list(state.get("pending") or [])
        if len(pending) != 1:
            raise InputError(f"edit: the round has {len(pending)} candidates; approve or reject them")
        return {"approvals": [record], "pending": [pending[0].model_copy(update={"source": answer.text.strip("\n") + "\n", "origin": "edited", "kernel": None})]}

    return body


def route_after_approval(state: RunState, after: str) -> str:
    return "finish" if state.get("user_stop") else after


def format_request(shown: ApprovalRequest) -> str:
    """The request as a person reads it on a terminal."""
    lines = [f"kernelwright: approve the {shown.approve} of round {shown.round}?"]
    if shown.approve == "plan":
        lines += ["", shown.plan or "(empty plan)"]
    for cand in shown.candidates:
        lines += ["", f"--- candidate {cand.id} ---", cand.source.rstrip()]
    lines += ["", f"answer: {shown.answers}"]
    return "\n".join(lines)
