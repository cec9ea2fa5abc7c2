"""What the parent (`warm.Zygote`) and a zygote (`zygote.serve`) say to each other: one JSON
object per line. Plain dicts (TypedDicts): the zygote imports no validator, and both ends are
the checker's own code (the jobs it forks talk through files, never this pipe).
"""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict


class SpawnCommand(TypedDict):
    """Fork a job: run `python -m argv[0] argv[1:]` in `home`, confined, with these limits."""

    op: Literal["spawn"]
    id: str
    argv: list[str]
    home: str
    env: dict[str, str]
    limits: dict[str, int | None]  # `limits.Limits` as fields
    readable: list[str]
    writable: list[str]
    devices: list[str]
    stdin: str  # a FIFO the parent writes
    stdout: str
    stderr: str


class KillCommand(TypedDict):
    op: Literal["kill"]
    id: str


ZygoteCommand = SpawnCommand | KillCommand


class Ready(TypedDict):
    """The zygote's first line, once torch and Triton are imported."""

    ready: Literal[True]
    pid: int
    torch: str
    triton: str


class Spawned(TypedDict):
    id: str
    pid: int


class Ended(TypedDict):
    id: str
    status: int  # os.waitpid's status


ZygoteMessage = Ready | Spawned | Ended
