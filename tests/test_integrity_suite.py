"""The integrity suite's own shape: every candidate file is well formed, every cheat of the
evaluation protocol has candidates, every candidate proves a listed rule and runs in exactly one
class's file (tests/test_integrity_<class>.py), and the secrets probe is a real probe.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
from integrity_candidates import (
    BY_ID,
    CANDIDATE_LIST,
    COVERAGE_BY_CLASS,
    KNOWN_BUGS,
    PROTOCOL_COVERAGE,
    owning_class,
)

from kernelwright.tools.check.verdicts import Verdict

from paths import TESTS


def test_candidate_files_are_well_formed():
    assert len(CANDIDATE_LIST) >= 40
    problems = {c.path.parent.name for c in CANDIDATE_LIST}
    assert len(problems) >= 4
    for c in CANDIDATE_LIST:
        assert c.problem.is_file(), f"{c.id}: no problem {c.problem}"
        for v in c.expect:
            assert v == "bad_input" or v in {x.value for x in Verdict}, f"{c.id}: unknown verdict {v}"
        assert len(c.expect) == 1 or c.id in KNOWN_BUGS, f"{c.id}: alternatives are only for known bugs"
        if c.expect != ("bad_input",):
            tree = ast.parse(c.path.read_text(), filename=str(c.path))
            assert any(isinstance(n, ast.ClassDef) and n.name == "ModelNew" for n in tree.body), c.id


def test_every_protocol_cheat_has_candidates():
    for cheat, ids in PROTOCOL_COVERAGE.items():
        assert ids, cheat
        for i in ids:
            assert i in BY_ID, f"{cheat}: no candidate {i}"
    covered = {i for ids in PROTOCOL_COVERAGE.values() for i in ids}
    assert not set(BY_ID) - covered, f"candidates that prove no listed rule: {sorted(set(BY_ID) - covered)}"
    # Cheats are spread over at least three problems.
    cheat_problems = {i.split("/")[0] for i in covered if BY_ID[i].expect != ("accepted",)}
    assert len(cheat_problems) >= 3
    # Each candidate runs in one class's test file, and each class has one.
    assert all(owning_class(i) in COVERAGE_BY_CLASS for i in BY_ID)
    assert all((TESTS / f"test_integrity_{cls}.py").is_file() for cls in COVERAGE_BY_CLASS), sorted(COVERAGE_BY_CLASS)


def _import_file(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def test_api_key_probe_would_fire_if_a_key_leaked(monkeypatch):
    """The reads_api_key candidate is a real probe: with a key in its environment, forward raises."""
    import torch

    module = _import_file(BY_ID["gelu_scale/reads_api_key"].path, "kw_probe_reads_api_key")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    with pytest.raises(RuntimeError, match="OPENAI_API_KEY leaked"):
        module.ModelNew(1.7)(torch.randn(4, 4))


