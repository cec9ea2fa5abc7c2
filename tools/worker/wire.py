"""What every record of JSON that a sandboxed child sends back shares, and the one way the parent
reads such JSON into a record.

The child is untrusted (candidate code runs in it, problem code in the reference child): its
messages are validated strictly (no coercion, no unknown or missing field), and a message that
does not fit is the checker's failure (`CheckerFailure`, a tool error), never a verdict.
The children themselves write plain JSON (no pydantic in the candidate's process: code there
could patch it); these records are the parent's reading of that JSON.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from kernelwright.tools.problem import CheckerFailure
from kernelwright.tools.sandbox.redact import redact_tree

T = TypeVar("T")


class WireRecord(BaseModel):
    """A message from a sandboxed child: frozen, strict, closed."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def from_child(adapter: TypeAdapter[T], data: object, what: str) -> T:
    """`data` (JSON a child wrote, already parsed) as a record; redacted first (text from a child
    never reaches a report unredacted). Raises CheckerFailure naming `what` when it does not fit."""
    try:
        return adapter.validate_python(redact_tree(data))
    except RecursionError:  # a worker caps what it describes; nesting this deep did not come from its code
        raise CheckerFailure(f"{what} is nested too deeply to read (this is not a verdict)") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise CheckerFailure(f"{what} is malformed at {where}: {first['msg']} (this is not a verdict)") from None
