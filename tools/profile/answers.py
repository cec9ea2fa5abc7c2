"""The profiling children's answers (`worker.profile_protocol`), read back by the parent.

A child that wrote nothing, something that is not JSON, or JSON of another shape gave no answer:
the caller reports why from the child's exit (`static.child_failure`). The children ran the
problem's and the candidate's code, so the answer is read by type, never trusted as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from kernelwright.tools.worker.profile_protocol import FlopsAnswer, ProfileRunAnswer, SignaturesAnswer

T = TypeVar("T")

FLOPS: TypeAdapter[FlopsAnswer] = TypeAdapter(FlopsAnswer)
PROFILE_RUN: TypeAdapter[ProfileRunAnswer] = TypeAdapter(ProfileRunAnswer)
SIGNATURES: TypeAdapter[SignaturesAnswer] = TypeAdapter(SignaturesAnswer)


def read_answer(adapter: TypeAdapter[T], path: Path, empty: T) -> T:
    """The child's answer at `path`, or `empty` when it wrote none (or none of this shape)."""
    try:
        return adapter.validate_python(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        return empty
