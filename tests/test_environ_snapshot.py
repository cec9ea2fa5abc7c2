"""Reading the environment from a worker thread while another thread changes it.

pytest sets and deletes PYTEST_CURRENT_TEST around every test phase while the integrity suite's
checks run in threads; a CI run failed once with KeyError: 'PYTEST_CURRENT_TEST' raised from the
redaction of a child's event log. The environment below deletes a variable in the middle of the
first iteration over it, as the other thread did, so the race happens every time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping

import pytest

from kernelwright.tools.sandbox.child import child_env
from kernelwright.tools.sandbox.redact import REDACTED, redact_tree


class RacedEnviron(MutableMapping):
    """os.environ as another thread sees it: the first iteration loses a key half way through."""

    def __init__(self, data: dict[str, str]) -> None:
        self.data = dict(data)
        self.raced = False

    def __iter__(self) -> Iterator[str]:
        keys = list(self.data)
        for i, key in enumerate(keys):
            if not self.raced and i == len(keys) // 2:
                self.raced = True
                self.data.pop("PYTEST_CURRENT_TEST", None)
            yield key

    def __getitem__(self, key: str) -> str:
        return self.data[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __len__(self) -> int:
        return len(self.data)


@pytest.fixture
def raced_environ(monkeypatch) -> RacedEnviron:
    names = {f"VAR_{i:02d}": "x" for i in range(20)}
    env = RacedEnviron({**names, "PYTEST_CURRENT_TEST": "a test", "OPENAI_API_KEY": "sk-raced-secret-0123456789", "PATH": "/usr/bin"})
    # The deleted key must sit after the half-way point, where the lookup of a listed key fails.
    env.data["PYTEST_CURRENT_TEST"] = env.data.pop("PYTEST_CURRENT_TEST")
    monkeypatch.setattr(os, "environ", env)
    return env


def test_redaction_survives_a_variable_deleted_while_it_reads_the_environment(raced_environ):
    redacted = redact_tree({"reason": "leaked sk-raced-secret-0123456789"})
    assert raced_environ.raced
    assert redacted == {"reason": f"leaked {REDACTED}"}


def test_child_environment_survives_a_variable_deleted_while_it_is_built(raced_environ, tmp_path):
    env = child_env(tmp_path)
    assert raced_environ.raced
    assert env["PATH"] == "/usr/bin" and "OPENAI_API_KEY" not in env
