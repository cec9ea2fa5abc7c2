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


def request(node: str, state: dict[str, Any]) -> dict[str, Any]:
    """What the person is shown: the round's plan, or its candidates' code."""
    shown: dict[str, Any] = {"approve": node, "round": state.get("iteration", 0), "answers": ANSWER_HELP}
    if node == "plan":
        shown["plan"] = state.get("plan") or ""
    else:
        shown["candidates"] = [{"id": c["id"], "source": c["source"]} for c in state.get("pending") or []]
    return shown


def approval_body(node: str):
    """The body of the approval node after `node` (plain: LangGraph re-runs it on resume, and
    everything before `interrupt` must be free of side effects)."""

    def body(state: dict[str, Any], ctx) -> dict[str, Any]:
        answer = Approval.of(interrupt(request(node, state)))
        record = {"node": node, "round": state.get("iteration", 0), **answer.to_dict()}
        if answer.decision == "approve":
            return {"approvals": [record]}
        if answer.decision == "reject":
            reason = f"the {node} of round {record['round']} was rejected by a person" + (f": {answer.text}" if answer.text else "")
            return {"approvals": [record], "user_stop": reason, "pending": []}
        if node == "plan":
            return {"approvals": [record], "plan": answer.text}
        pending = list(state.get("pending") or [])
        if len(pending) != 1:
            raise InputError(f"edit: the round has {len(pending)} candidates; approve or reject them")
        return {"approvals": [record], "pending": [{**pending[0], "source": answer.text.strip("\n") + "\n", "origin": "edited"}]}

    return body


def route_after_approval(state: dict[str, Any], after: str) -> str:
    return "finish" if state.get("user_stop") else after


def format_request(shown: dict[str, Any]) -> str:
    """The request as a person reads it on a terminal."""
    lines = [f"kernelwright: approve the {shown['approve']} of round {shown['round']}?"]
    if shown["approve"] == "plan":
        lines += ["", shown.get("plan") or "(empty plan)"]
    for cand in shown.get("candidates") or []:
        lines += ["", f"--- candidate {cand['id']} ---", cand["source"].rstrip()]
    lines += ["", f"answer: {shown['answers']}"]
    return "\n".join(lines)
