"""What a run says while it runs: a round whose roles wrote no candidate does not report a check."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kernelwright.graphs.runner import RunRequest, execute

from paths import PROBLEMS


def test_a_round_without_candidates_does_not_print_a_check_round(tmp_path):
    markers = str(tmp_path / "markers")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "roles": {"planner": {"impl": "kw_test_roles:planner", "options": {"marker_dir": markers}},
                  "coder": {"impl": "kw_test_roles:idle_coder", "options": {"marker_dir": markers}}},
        "budgets": {"max_iters": 2, "patience": 5}, "check": {"device": "cpu"}, "profile": {"tier": "off"}}))
    said: list[str] = []
    summary = execute(RunRequest(problem=str(PROBLEMS / "add_mul.py"), home=tmp_path / "home", config_path=str(config), progress=said.append))
    assert not summary.accepted
    assert len(list(Path(markers).glob("coder-*"))) == 2  # two rounds ran their coder
    checks = [line for line in said if line.startswith("[check]")]
    assert checks and all("nothing to check" in line for line in checks), said
    assert json.loads((Path(summary.run_dir) / "report.json").read_text())["accepted"] is False
