"""`kernelwright memory ...` as a user runs it: a real subprocess, exit codes, one JSON object, errors.

Skipped only while `memory` is not yet a registered command of `kernelwright.cli.build_parser()`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kernelwright.cli import build_parser

from paths import ROOT


def _registered() -> bool:
    sub = next((a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)), None)
    return sub is not None and "memory" in sub.choices


pytestmark = pytest.mark.skipif(not _registered(), reason="`memory` is not wired into kernelwright.cli yet")
LESSON_KEYS = {"id", "title", "body", "kind", "arch", "confidence"}


def kw(home: Path, *args: str, json_out: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "kernelwright", "memory", *args, "--home", str(home)]
    if json_out:
        cmd.append("--json")
    env = {k: v for k, v in os.environ.items() if k != "KERNELWRIGHT_HOME"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)


def ok(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def bad(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err
    return err


def test_add_search_show_forget_round_trip(tmp_path):
    home = tmp_path / "home"
    listed = ok(kw(home, "list"))["lessons"]
    assert len(listed) >= 30 and all(LESSON_KEYS <= set(x) for x in listed)

    added = ok(kw(home, "add", "--title", "Unroll (tl.static_range) the tiny K loop",
                  "--body", 'Use tl.static_range for K <= 64; "quotes" and tl.sum stay searchable.',
                  "--kind", "fix", "--arch", "sm_90", "--op-family", "matmul", "--dtype", "bf16",
                  "--change", "tl.static_range for the K loop"))
    assert LESSON_KEYS <= set(added) and added["arch"] == "sm_90" and added["source"] == "user"
    lesson_id = added["id"]

    for query in ["tl.static_range", '"quotes"', "(tl.static_range)", "tl.sum"]:
        found = ok(kw(home, "search", query, "--k", "10"))["lessons"]
        assert all(LESSON_KEYS <= set(x) for x in found)
        assert lesson_id in [x["id"] for x in found], query

    shown = ok(kw(home, "show", lesson_id))
    assert shown["id"] == lesson_id and shown["change"] == "tl.static_range for the K loop"

    assert ok(kw(home, "forget", lesson_id)) == {"forgotten": lesson_id}
    bad(kw(home, "show", lesson_id, json_out=False), lesson_id)
    assert lesson_id not in [x["id"] for x in ok(kw(home, "search", "tl.static_range"))["lessons"]]


def test_bad_input_exits_2_with_one_line(tmp_path):
    home = tmp_path / "home"
    bad(kw(home, "add", "--title", "t", "--body", "b", "--kind", "bogus", json_out=False), "--kind")
    bad(kw(home, "forget", "no-such-id", json_out=False), "no-such-id")
    bad(kw(home, "import", str(tmp_path / "missing.jsonl"), json_out=False), "missing.jsonl")
    (tmp_path / "broken.jsonl").write_text("{not json\n")
    bad(kw(home, "import", str(tmp_path / "broken.jsonl"), json_out=False), "line 1")
    proc = kw(home, "show", "no-such-id")
    assert proc.returncode == 2 and "error" in json.loads(proc.stdout)


def test_export_then_import_into_a_fresh_home(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ok(kw(a, "add", "--title", "Team lesson", "--body", "Shared between teams.", "--change", "share it"))
    out = tmp_path / "lessons.jsonl"
    exported = ok(kw(a, "export", "--out", str(out)))
    lines = out.read_text().splitlines()
    assert exported["exported"] == len(lines) >= 31
    stdout = kw(a, "export", json_out=False)
    assert stdout.returncode == 0 and stdout.stdout.splitlines() == lines

    summary = ok(kw(b, "import", str(out)))
    assert summary["added"] == 1 and summary["unchanged"] == len(lines) - 1
    def content(home: Path) -> dict:  # each home stamps its own seeds' timestamps
        return {x["id"]: {k: v for k, v in x.items() if not k.endswith("_at")} for x in ok(kw(home, "list"))["lessons"]}

    assert content(b) == content(a)
