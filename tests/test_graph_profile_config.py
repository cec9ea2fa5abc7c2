"""The config's `profile` section reaches the graph's profile node, and a bad one is bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from kernelwright.cli import main

from paths import PROBLEMS


def kw(*args, home):
    return subprocess.run([sys.executable, "-m", "kernelwright", *args, "--home", str(home)], capture_output=True, text=True, timeout=600)


def run_profile_step(capsys, config, home) -> dict:
    """The profile step of a one-round run of add_mul with `config`. The run goes through the CLI's
    code in this process (kernelwright.cli.main: the --config and --max-iters flags, the JSON it
    prints): a `run` process pays ~6 s of CPU for its imports and sandbox zygote, and what is
    tested here is where the config's section lands, not the process."""
    code = main(["run", str(PROBLEMS / "add_mul.py"), "--config", str(config), "--max-iters", "1", "--json", "--home", str(home)])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    trace = json.loads(kw("traces", "show", json.loads(out)["run_id"], "--json", home=home).stdout)
    return [s for s in trace["steps"] if s["node"] == "profile"][0]["summary"]["profile"]


def test_a_forced_tier_this_machine_lacks_is_reported_and_the_run_goes_on(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"profile": {"tier": 1}, "check": {"device": "cpu", "trials": 1, "variants": False, "static_resources": False}}))
    profile = run_profile_step(capsys, config, tmp_path)
    assert profile["tier"] == "check"  # nothing profiled: the check's record stands in
    assert any("tier 1" in m and "cannot run here" in m for m in profile["missing"]), profile["missing"]


def test_profiling_off_keeps_the_checks_record(tmp_path, capsys):
    config = tmp_path / "off.yaml"
    config.write_text("profile: {tier: off}\ncheck: {device: cpu, trials: 1, variants: false, static_resources: false}\n")  # YAML's bare off is false
    profile = run_profile_step(capsys, config, tmp_path)
    assert profile["tier"] == "check" and profile["missing"] == ["profiling off (config profile.tier)"], profile


def test_a_bad_profile_tier_is_bad_input(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"profile": {"tier": 4}}))
    done = kw("run", str(PROBLEMS / "add_mul.py"), "--config", str(config), home=tmp_path)
    assert done.returncode == 2
    assert "profile.tier" in done.stderr and len(done.stderr.strip().splitlines()) == 1
