"""`kernelwright check` as a user runs it: a real subprocess, exit codes, one JSON object, errors.

Exit codes (docs/cli.md): 0 accepted, 1 rejected, 2 bad input (one-line error naming the file,
no traceback). `--json` prints exactly one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paths import CANDIDATES, PROBLEMS, ROOT, SOLUTIONS, TEST_PROBLEMS

GELU = PROBLEMS / "gelu_scale.py"
GELU_OK = SOLUTIONS / "gelu_scale.py"
RESULT_KEYS = {"accepted", "verdict", "reasons", "trials", "max_abs_err", "timing", "speedup"}


def _command(args: tuple[object, ...], json_out: bool) -> list[str]:
    cmd = [sys.executable, "-m", "kernelwright", "check", *map(str, args), "--device", "cpu"]
    return cmd + ["--json"] if json_out else cmd


ENV = {**os.environ, "OPENAI_API_KEY": "sk-test-secret"}


def kw_check(*args: object, timeout: float = 300, json_out: bool = True) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    proc = subprocess.run(_command(args, json_out), capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=ENV)
    return proc, time.monotonic() - start


class Background:
    """A CLI run started now and collected later, so the slow runs of this module overlap."""

    def __init__(self, tmp: Path, name: str, *args: object) -> None:
        self.args = _command(args, True)
        self.out, self.err = tmp / f"{name}.out", tmp / f"{name}.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.popen = subprocess.Popen(self.args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, env=ENV)

    def result(self, timeout: float = 300) -> subprocess.CompletedProcess:
        rc = self.popen.wait(timeout=timeout)
        return subprocess.CompletedProcess(self.args, rc, self.out.read_text(), self.err.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    # Each CLI check pays ~7 s of CPU before its first trial (the CLI's imports, its sandbox zygotes),
    # so one run answers several tests: the default run keeps its sandbox files for the
    # compare-in-worker test, the second run is also the --precision opt-in. What a CLI run would
    # only repeat is judged in this process instead: a crash (tests/test_integrity_broken.py), a
    # TF32 kernel accepted with the opt-in (tests/test_integrity_numerics.py), a reference that
    # raises (tests/test_bad_input.py).
    tmp = tmp_path_factory.mktemp("cli")
    started = {
        "default": Background(tmp, "default", GELU, GELU_OK, "--keep-workdir", "--home", tmp / "home"),
        "again": Background(tmp, "again", GELU, GELU_OK, "--trials", "2", "--no-variants", "--precision", "tf32"),
        "rejected": Background(tmp, "rejected", GELU, CANDIDATES / "gelu_scale" / "identity_copy.py", "--trials", "2", "--no-variants"),
    }
    yield started
    for run in started.values():
        if run.popen.poll() is None:
            run.popen.kill()
            run.popen.wait()
    kept = _kept_workdir(started["default"].err.read_text())
    if kept is not None:
        shutil.rmtree(kept, ignore_errors=True)


def _kept_workdir(stderr: str) -> Path | None:
    lines = [line.split("sandbox files kept in ", 1)[1].strip() for line in stderr.splitlines() if "sandbox files kept in" in line]
    return Path(lines[0]) if lines else None


def one_json_object(stdout: str) -> dict:
    obj = json.loads(stdout)  # the whole of stdout is one JSON document
    assert isinstance(obj, dict)
    return obj


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("kernelwright: error: "), proc.stderr
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


# ---- accepted, with the default protocol (5 trials + a shape variant) --------------------------


def test_accepted_solution_exits_0_with_one_json_object(runs):
    proc = runs["default"].result()
    assert proc.returncode == 0, proc.stderr
    result = one_json_object(proc.stdout)
    assert RESULT_KEYS <= set(result)
    assert result["accepted"] is True and result["verdict"] == "accepted"
    assert result["reasons"] == []
    assert result["timing"] is None and result["speedup"] is None  # no timing on the CPU
    assert 0 <= result["max_abs_err"] < 1e-4
    assert result["device"] == "cpu" and result["mode"] == "strict"
    # Progress went to stderr, not into the JSON.
    assert "kernelwright:" in proc.stderr


def test_default_protocol_runs_five_trials_and_a_shape_variant(runs):
    proc = runs["default"].result()
    result = one_json_object(proc.stdout)
    shipped = [t for t in result["trials"] if t["variant"] == "shipped"]
    variant = [t for t in result["trials"] if t["variant"] == "variant1"]
    assert len(shipped) >= 5 and len(result["trials"]) >= 6
    assert variant, "a variant1 trial ran"
    assert all(t["ok"] for t in result["trials"])
    assert shipped[0]["seed"] == 42  # the reproducible first trial
    # Model's and ModelNew's construction seed: drawn per check (a solution cannot replay Model's
    # weights from it), shown once the check is over.
    again = one_json_object(runs["again"].result().stdout)
    assert isinstance(result["construction_seed"], int) and result["construction_seed"] != again["construction_seed"]
    assert len({t["seed"] for t in result["trials"]}) == len(result["trials"])
    variants = {v["name"]: v for v in result["variants"]}
    # The variant changes every size constant >= 8 to a smaller value that does not divide it.
    shipped_sizes = {"batch_size": 64, "dim": 1000}
    changed = variants["variant1"]["constants"]
    assert set(changed) == set(shipped_sizes)
    for name, value in changed.items():
        assert 0 < value < shipped_sizes[name] and shipped_sizes[name] % value != 0, (name, value)
    assert result["seeds"] == [t["seed"] for t in result["trials"]]
    # Each trial says where its time went: the reference's worker, the candidate's (its inputs, the
    # call, the output's file) and the comparison.
    for trial in result["trials"]:
        assert set(trial["seconds"]) == {"reference", "inputs", "call", "save", "compare"}, trial
        assert all(v >= 0 for v in trial["seconds"].values())


def test_a_check_keeps_the_reference_outputs_in_the_worker_and_judges_as_before(runs):
    """As a user runs it: the verdict and the per-trial errors of a check, with the reference's
    outputs never written to the check's folder (only the candidate's cross a process boundary).
    (tests/test_compare_in_worker.py tests the worker's side; this is the default run, kept.)"""
    proc = runs["default"].result()
    assert proc.returncode == 0, proc.stderr
    result = one_json_object(proc.stdout)
    assert result["verdict"] == "accepted" and result["trials"] and all(t["ok"] and t["max_abs_err"] is not None for t in result["trials"])
    kept = _kept_workdir(proc.stderr)
    assert kept is not None, proc.stderr
    assert not list(kept.rglob("ref_*.pt"))
    # Nor the candidate's: its worker handed each over as a sealed memory file (output_share).
    assert not list(kept.rglob("out_*.pt"))
    bodies = [json.loads(json.loads(line)["body"]) for line in (kept / "candidate" / "candidate.events.jsonl").read_text().splitlines()]
    results = [b for b in bodies if b["event"] == "result"]
    assert len(results) == len(result["trials"]) and all(b["shared"] and not b["output_digest"] for b in results)
    answer = json.loads((kept / "reference" / "compare.result.json").read_text())
    assert [c["case"] for c in answer["comparisons"]] == [t["case"] for t in result["trials"]]


def test_secret_seeds_differ_between_runs(runs):
    first = one_json_object(runs["default"].result().stdout)
    again = runs["again"].result()
    assert again.returncode == 0, again.stderr
    second = one_json_object(again.stdout)
    # --trials / --no-variants obeyed: two plain trials, then the perturbation, stress and parameter trials
    assert {t["variant"] for t in second["trials"]} == {"shipped"}
    assert [t["case"] for t in second["trials"] if t["kind"] == "plain"] == ["shipped-0", "shipped-1"]
    assert first["seeds"][0] == second["seeds"][0] == 42
    assert second["seeds"][1] not in first["seeds"][1:], "the secret seeds must be fresh for every run"


def test_precision_tf32_is_an_opt_in_the_result_reports(runs):
    # The flag reaches the check and the result says so; that it then accepts a TF32 dot (judged
    # with the 16-bit tolerance) is tests/test_integrity_numerics.py's TF32_OPT_IN, on the same options.
    proc = runs["again"].result()
    assert proc.returncode == 0, proc.stderr
    result = one_json_object(proc.stdout)
    assert any("--precision tf32" in n for n in result["notes"])
    assert result["tolerance"]["source"] == "--precision tf32" and result["tolerance"]["atol"] == pytest.approx(1e-2)


def test_sizes_flag_is_checked_and_full_sizes_are_planned(tmp_path):
    proc, _ = kw_check(GELU, GELU_OK, "--sizes", "huge")
    assert proc.returncode == 2 and "--sizes" in proc.stderr


# ---- rejected ----------------------------------------------------------------------------------


def test_rejected_solution_exits_1_with_the_verdict(runs):
    proc = runs["rejected"].result()
    assert proc.returncode == 1, proc.stderr
    result = one_json_object(proc.stdout)
    assert RESULT_KEYS <= set(result)
    assert result["accepted"] is False and result["verdict"] == "wrong_output"
    assert result["reasons"] and result["reasons"][0]["check"] == "output"
    assert "out of tolerance" in result["reasons"][0]["message"]
    assert result["trials"][0]["ok"] is False and result["max_abs_err"] > 1


@pytest.mark.slow
def test_hang_is_stopped_at_the_timeout_and_said_in_words_beside_the_notes(tmp_path):
    # Without --json: the verdict, its reason and the notes on stderr, nothing on stdout. One CLI
    # run for both (a check process costs ~7 s of CPU before its first trial): a KernelBench file
    # at full size (reduced for the CPU: a note) and a forward that never returns.
    spins = write(tmp_path, "spins.py", SPINS)
    proc, _ = kw_check(TEST_PROBLEMS / "kb_square_matmul_full.py", spins, "--timeout", "4", "--trials", "1", timeout=120, json_out=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert "verdict: timeout" in proc.stderr and "- [sandbox] the candidate did not finish within 4s" in proc.stderr
    assert "note: sizes reduced for Triton's CPU interpreter, automatically (--sizes full runs the file's sizes): N -> 256" in proc.stderr
    # The CLI returned (kw_check's own 120 s limit did not fire): the hang was stopped by the
    # check's timeout. No wall-clock margin is asserted: machine load would decide it, not the code.


SPINS = """
    import torch
    import torch.nn as nn
    import triton
    import triton.language as tl


    @triton.jit
    def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=offs < n), mask=offs < n)


    class ModelNew(nn.Module):
        def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
            n = 0
            while True:
                n += 1
            return A
"""


# ---- bad input: exit 2, one line naming the file, no traceback --------------------------------


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.py"
    proc, _ = kw_check(GELU, missing)
    assert_one_line_error(proc, str(missing), "not found")
    assert one_json_object(proc.stdout)["error"]  # --json still prints one object
    proc, _ = kw_check(missing, GELU_OK, json_out=False)
    assert_one_line_error(proc, "problem file", str(missing))
    assert proc.stdout == ""


def test_problem_without_get_inputs(tmp_path):
    problem = write(tmp_path, "no_inputs.py", """
        import torch.nn as nn

        class Model(nn.Module):
            def forward(self, x):
                return x

        def get_init_inputs():
            return []
    """)
    proc, _ = kw_check(problem, GELU_OK, json_out=False)
    assert_one_line_error(proc, "no_inputs.py", "get_inputs")


def test_solution_without_modelnew(tmp_path):
    solution = write(tmp_path, "no_modelnew.py", """
        import torch.nn as nn

        class Model(nn.Module):
            pass
    """)
    proc, _ = kw_check(GELU, solution, json_out=False)
    assert_one_line_error(proc, "no_modelnew.py", "ModelNew")


def test_solution_with_a_syntax_error():
    bad = CANDIDATES / "gelu_scale" / "syntax_error.py"
    proc, _ = kw_check(GELU, bad, json_out=False)
    line = assert_one_line_error(proc, "syntax_error.py", "line 14")
    assert proc.stderr.strip() == line, "exactly one line on stderr"


def test_usage_error_trials_below_one():
    proc, _ = kw_check(GELU, GELU_OK, "--trials", "0", json_out=False)
    assert_one_line_error(proc, "--trials")
