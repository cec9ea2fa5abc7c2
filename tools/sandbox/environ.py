"""A consistent copy of this process's environment, safe to take from any thread.

`os.environ` is a mapping whose iteration lists the keys first and then looks each one up; when
another thread sets or deletes a variable in between (pytest sets and deletes PYTEST_CURRENT_TEST
around every test phase; a caller may set a variable while the graph checks K candidates in worker
threads), iteration raises KeyError or RuntimeError. Those are transient: the copy is retried.
"""

from __future__ import annotations

import os

ATTEMPTS = 1000  # a mutation has to land inside each of this many copies in a row to fail them all


def environ_snapshot() -> dict[str, str]:
    """A dict copy of os.environ taken without racing a concurrent set or delete."""
    for _ in range(ATTEMPTS - 1):
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):
            continue
    return dict(os.environ)
