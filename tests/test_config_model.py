"""The config model: one schema, defaults in one place, every bad key or value named in one line.

`kernelwright config show` is how a user sees the effective config; a bad config is exit 2 with
the key path, the value, where it came from and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources

import pytest
import yaml

from kernelwright.agents.context import Budgets
from kernelwright.cli import main
from kernelwright.configs import Config, load
from kernelwright.tools.check.settings import CheckSettings
from kernelwright.tools.check.verify import CheckOptions
from kernelwright.tools.problem import InputError


def show(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["config", "show", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_default_yaml_is_the_models_defaults():
    shipped = yaml.safe_load(resources.files("kernelwright.configs").joinpath("default.yaml").read_text())
    assert shipped == Config().model_dump(mode="json")


def test_the_runtime_records_start_from_the_same_defaults():
    # `kernelwright check` (CheckOptions) and the graph's budgets (Budgets) default as a config does.
    check = CheckOptions()
    for name, value in CheckSettings().model_dump().items():
        assert getattr(check, name) == (tuple(value) if isinstance(value, list) else value), name
    assert {f.name: f.default for f in dataclasses.fields(Budgets)} == Config().budgets.model_dump()


@pytest.mark.parametrize(("text", "expected"), [
    ("budgets: {max_iter: 5}\n", ["unknown key budgets.max_iter", "allowed keys under budgets: max_iters,"]),
    ("check: {devce: cpu}\n", ["unknown key check.devce", "device, timeout_s"]),
    ("roles: {auditor: {impl: a:b, aftr: code}}\n", ["unknown key roles.auditor.aftr", "impl, options, after"]),
    ("budgets: {max_iters: many}\n", ["budgets.max_iters = 'many'", "valid integer"]),
    ("profile: {tier: 4}\n", ["profile.tier = 4", "1, 2, 3 or 'off'"]),
    ("check: {device: gpu}\n", ["check.device = 'gpu'", "auto, cpu, cuda or cuda:N"]),
    ("sandbox: {memory_gb: -1}\n", ["sandbox.memory_gb = -1", "greater than 0"]),
    ("llm: {prices: {gpt-x: {input: 1}}}\n", ["llm.prices.gpt-x.output", "required"]),
    ("approve: [plan, deploy]\n", ["approve.1 = 'deploy'", "'plan' or 'code'"]),
])
def test_a_bad_file_is_one_line_naming_the_key_the_value_and_what_is_allowed(tmp_path, capsys, text, expected):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    code, out, err = show(capsys, "--config", str(bad))
    assert code == 2 and out == ""
    line = err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    for part in expected:
        assert part in line, line
    assert f"file {bad}" in line


def test_a_bad_flag_names_the_flag(capsys):
    code, _, err = show(capsys, "--max-iters", "-1")
    assert code == 2
    assert "budgets.max_iters = -1 (from flag --max-iters)" in err and "greater than or equal to 1" in err


def test_show_names_the_source_of_each_value(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_MODEL", "env-model")
    mine = tmp_path / "mine.yaml"
    mine.write_text("budgets: {patience: 4}\nprofile: {tier: off}\ncheck: {device: cpu}\n")
    code, out, _ = show(capsys, "--config", str(mine), "--device", "cuda:1", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["config"]["budgets"]["patience"] == 4 and shown["sources"]["budgets.patience"] == f"file {mine}"
    assert shown["config"]["profile"]["tier"] == "off"  # YAML's bare off
    assert shown["config"]["check"]["device"] == "cuda:1" and shown["sources"]["check.device"] == "flag --device"
    assert shown["config"]["model"] == "env-model" and shown["sources"]["model"] == "env KERNELWRIGHT_MODEL"
    assert shown["sources"]["budgets.max_iters"] == "default"
    code, out, _ = show(capsys, "--config", str(mine))
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("budgets.patience "))
    assert row.split() == ["budgets.patience", "4", "#", "file", str(mine)]


def test_a_file_model_wins_over_the_environment(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("model: file-model\n")
    resolved = load(mine, environ={"KERNELWRIGHT_MODEL": "env-model"})
    assert resolved.config.model == "file-model" and resolved.sources["model"] == f"file {mine}"


def test_a_recorded_config_with_a_typo_is_named_too():
    from kernelwright.configs import validate

    with pytest.raises(InputError, match=r"unknown key budgets\.max_iter \(from run r1\)"):
        validate({"budgets": {"max_iter": 2}}, "run r1")
