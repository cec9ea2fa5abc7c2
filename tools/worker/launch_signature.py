"""A kernel launch as the launch counter records it in the child (`check.guards.LaunchCounter`):
plain dicts (TypedDicts), written as JSON through the event log or a profiling child's answer.
The parent reads them strictly as `events.KernelSignature` / `events.KernelArg`.
"""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict

Scalar = int | float | bool | str | None


class LaunchArg(TypedDict):
    """One argument of the launch: a tensor's dtype, a scalar's value, else its repr."""

    name: str
    kind: str  # tensor | constexpr | dtype | jit_function | bool | int | float | none | other
    dtype: NotRequired[str]
    value: NotRequired[Scalar]
    repr: NotRequired[str]
    line: NotRequired[int]  # jit_function: the function's first line


class LaunchSignature(TypedDict):
    """The first launch of one of the solution's kernels."""

    kernel: str
    file: str
    args: list[LaunchArg]
    num_warps: int
    num_stages: int
    line: NotRequired[int]
