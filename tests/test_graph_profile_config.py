"""The config's `profile` section reaches the graph's profile node, and a bad one is bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from paths import PROBLEMS


def kw(*args, home):
    return subprocess.run([sys.executable, "-m", "kernelwright", *args, "--home", str(home)], capture_output=True, text=True, timeout=600)


def test_a_forced_tier_this_machine_lacks_is_reported_and_the_run_goes_on(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"profile": {"tier": 1}, "check": {"device": "cpu", "trials": 1, "variants": False, "static_resources": False}}))
    done = kw("run", str(PROBLEMS / "add_mul.py"), "--config", str(config), "--max-iters", "1", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    run_id = json.loads(done.stdout)["run_id"]
    trace = json.loads(kw("traces", "show", run_id, "--json", home=tmp_path).stdout)
    profile = [s for s in trace["steps"] if s["node"] == "profile"][0]["summary"]["profile"]
    assert profile["tier"] == "check"  # nothing profiled: the check's record stands in
    assert any("tier 1" in m and "cannot run here" in m for m in profile["missing"]), profile["missing"]


def test_profiling_off_keeps_the_checks_record(tmp_path):
    config = tmp_path / "off.yaml"
    config.write_text("profile: {tier: off}\ncheck: {device: cpu, trials: 1, variants: false, static_resources: false}\n")  # YAML's bare off is false
    done = kw("run", str(PROBLEMS / "add_mul.py"), "--config", str(config), "--max-iters", "1", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    trace = json.loads(kw("traces", "show", json.loads(done.stdout)["run_id"], "--json", home=tmp_path).stdout)
    profile = [s for s in trace["steps"] if s["node"] == "profile"][0]["summary"]["profile"]
    assert profile["tier"] == "check" and profile["missing"] == ["profiling off (config profile.tier)"], profile


def test_a_bad_profile_tier_is_bad_input(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"profile": {"tier": 4}}))
    done = kw("run", str(PROBLEMS / "add_mul.py"), "--config", str(config), home=tmp_path)
    assert done.returncode == 2
    assert "profile.tier" in done.stderr and len(done.stderr.strip().splitlines()) == 1
