"""`kernelwright bench` end to end on the CPU, offline (expert policy, Triton interpreter): its
numbers agree with each problem's own run, its files are written, and a bench stopped mid-way
continues with only the problems it had not finished."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kernelwright.bench.worker import best_check
from kernelwright.graphs.traces.store import TraceStore

from paths import PROBLEMS

# A problem the expert compiles (an elementwise chain) and one it cannot (an embedding lookup).
SUBSET = "gelu_scale,embedding_layernorm"
# A KernelBench-shaped problem whose reference never returns (sleeps until the bench is stopped).
HANGS_IN_FORWARD = """import threading

import torch


class Model(torch.nn.Module):
    def forward(self, x):
        threading.Event().wait()
        return x


def get_inputs():
    return [torch.randn(8, 8)]


def get_init_inputs():
    return []
"""


def bench(*args: str, home: Path, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY")}
    return subprocess.Popen([sys.executable, "-m", "kernelwright", "bench", *args, "--device", "cpu", "--max-iters", "1",
                             "--home", str(home), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, **popen)


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    lean = tmp / "lean.yaml"  # no sm_90 compile, no profile: both tested on their own (CI time)
    lean.write_text("check: {static_resources: false}\nprofile: {tier: off}\n")
    proc = bench(str(PROBLEMS), "--filter", SUBSET, "--jobs", "2", "--id", "cpu-subset", "--out", str(tmp / "out"),
                 "--config", str(lean), home=tmp / "home")
    out, err = proc.communicate(timeout=600)
    return tmp, proc.returncode, json.loads(out), err


def test_bench_agrees_with_each_run(subset):
    tmp, rc, report, err = subset
    assert rc == 0, err
    by_name = {r["problem"]: r for r in report["problems"]}
    assert list(by_name) == ["embedding_layernorm", "gelu_scale"]  # the suite's order
    traces = TraceStore(tmp / "home" / "traces.db")
    for name in ("gelu_scale",):
        r = by_name[name]
        run_report = json.loads((Path(r["run_dir"]) / "report.json").read_text())
        assert run_report["run_id"] == r["run_id"] and run_report["accepted"] is True
        assert (r["accepted"], r["exit"], r["verdict"]) == (True, 0, run_report["best"]["verdict"]) == (True, 0, "accepted")
        assert r["speedup"] is None and run_report["best"]["speedup"] is None  # no timing on the CPU
        assert r["pct_sol"] is None and run_report["best"]["pct_of_sol"] is None
        # % of SoL comes from the run's checkpointed best attempt: read, and empty on the CPU.
        assert r["pct_sol"] is None and best_check(tmp / "home", r["run_id"]).timing is None
        assert r["tokens"] == run_report["usage"]["total_tokens"] == 0
        assert traces.run(r["run_id"]).status == "finished"
    refused = by_name["embedding_layernorm"]
    assert (refused["accepted"], refused["exit"], refused["status"]) == (False, 1, "failed")
    assert "nn.Embedding" in refused["unsupported"]
    assert traces.run(refused["run_id"]).error == refused["error"]
    s = report["summary"]
    assert (s["problems"], s["accepted"], s["unsupported"], s["complete"]) == (2, 1, 1, True)
    assert s["fast_p"]["eager"]["0"] == 0.5 and s["fast_p"]["eager"]["1"] is None
    assert any("no timing on the CPU" in n for n in s["notes"])
    assert "2 to run, 0 already finished; 2 worker(s)" in err and "2/2 done, 1 accepted" in err


def test_bench_writes_json_markdown_charts_and_html(subset):
    tmp, _, report, _ = subset
    folder = tmp / "home" / "bench" / "cpu-subset"
    assert report["folder"] == str(folder)
    for name in ("results.json", "results.md", "speedups.png", "speedups.svg", "results.html"):
        assert (folder / name).is_file() and (tmp / "out" / name).read_bytes() == (folder / name).read_bytes()
    assert json.loads((folder / "results.json").read_text())["summary"] == report["summary"]
    table = (folder / "results.md").read_text()
    assert "| gelu_scale | yes | accepted |" in table and "| embedding_layernorm | no | unsupported |" in table
    assert (folder / "speedups.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "results.html").read_text()
    # The accepted problem's solution, highlighted; the unsupported one says why it has none.
    section = page[page.index('data-problem="gelu_scale"'):]
    assert '<div class="hl">' in section and '<span class="k">class</span>' in section
    assert "nn.Embedding" in page and page.count("<script") == 1


def test_stopped_bench_resumes_with_only_the_unfinished_problems(tmp_path):
    home = tmp_path / "home"
    # One job, in name order: embedding_layernorm ends quickly (the expert has no kernel for it); the second
    # problem's reference never returns, so the bench is surely stopped while that problem runs (two
    # quick problems raced: the second could finish between the poll and the signal).
    problems = tmp_path / "problems"
    problems.mkdir()
    shutil.copy(PROBLEMS / "embedding_layernorm.py", problems / "embedding_layernorm.py")
    (problems / "hangs_in_forward.py").write_text(HANGS_IN_FORWARD)
    proc = bench(str(problems), "--jobs", "1", "--id", "stopped", home=home, start_new_session=True)
    folder = home / "bench" / "stopped" / "problems"
    deadline = time.monotonic() + 300
    while not (folder / "hangs_in_forward" / "request.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)  # as `timeout` or a scheduler would: the bench's whole group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    partial = json.loads(out)
    assert [r["problem"] for r in partial["problems"]] == ["embedding_layernorm"] and partial["complete"] is False
    assert not (folder / "hangs_in_forward" / "result.json").exists()
    assert "continue it with: kernelwright bench --resume stopped" in err
    first_run = partial["problems"][0]["run_id"]

    # The user mends the problem that hung; the resumed bench runs it (only it) from its file.
    shutil.copy(PROBLEMS / "lstm_cell.py", problems / "hangs_in_forward.py")
    resumed = bench("--resume", "stopped", home=home)  # the same --device/--max-iters: allowed
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 1, err  # no problem of this bench has an accepted solution
    assert "1 to run, 1 already finished" in err
    report = json.loads(out)
    by_name = {r["problem"]: r for r in report["problems"]}
    assert by_name["embedding_layernorm"]["run_id"] == first_run  # not run again
    assert "Tensor.chunk" in by_name["hangs_in_forward"]["unsupported"] and report["summary"]["complete"] is True


@pytest.mark.gpu
def test_bench_on_a_gpu_times_each_accepted_solution(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kernelwright", "bench", str(PROBLEMS), "--filter", "gelu_scale", "--device", "cuda",
                           "--max-iters", "1", "--home", str(tmp_path / "home"), "--json"], capture_output=True, text=True, timeout=1200,
                          cwd=tmp_path)  # not the repository root: its kernelwright/ would shadow an installed package
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    (r,) = report["problems"]
    assert r["accepted"] and r["speedup"]["eager"] > 0 and r["speedup"]["compile"] > 0 and r["pct_sol"] > 0
    run_report = json.loads((Path(r["run_dir"]) / "report.json").read_text())
    assert run_report["best"]["pct_of_sol"] == pytest.approx(r["pct_sol"])  # the run's own report carries it too
    s = report["summary"]
    assert s["timed"]["eager"] == 1 and s["fast_p"]["eager"]["1"] == (1.0 if r["speedup"]["eager"] > 1 else 0.0)
    assert s["geomean_speedup"]["eager"] == pytest.approx(r["speedup"]["eager"])


def test_a_worker_stopped_by_a_signal_leaves_its_problem_unfinished_and_one_that_died_is_recorded(tmp_path):
    """SIGTERM to the bench's process group reaches its workers too, often before the bench acts on
    it: a worker that ended by SIGTERM or SIGINT without a result is not a problem's outcome (it stays
    for --resume); one that died otherwise (SIGKILL, a crash) is recorded as worker_died."""
    import signal as signals

    from kernelwright.bench.executor import Outcome
    from kernelwright.bench.runner import BenchRequest, run_bench

    problems = tmp_path / "problems"
    problems.mkdir()
    for name in ("a_stopped", "b_interrupted", "c_killed"):
        (problems / f"{name}.py").write_text(HANGS_IN_FORWARD)
    codes = {"a_stopped": -signals.SIGTERM, "b_interrupted": -signals.SIGINT, "c_killed": -signals.SIGKILL}

    class EndsEachWorker:
        def __init__(self, slots):
            self.slots = slots

        def run(self, tasks, on_start, on_done):
            for task in tasks:
                on_start(task, self.slots[0])
                on_done(Outcome(task=task, slot=self.slots[0], result=None, returncode=codes[task.name], wall_s=0.0))

        def stop(self):
            pass

    req = BenchRequest(folder=str(problems), home=tmp_path / "home", device="cpu", jobs=1, bench_id="signals",
                       show_progress=False, overrides={"budgets": {"max_iters": 1}}, make_executor=EndsEachWorker)
    report = run_bench(req).model_dump(mode="json")
    recorded = {r["problem"]: r["status"] for r in report["problems"]}
    assert recorded == {"c_killed": "worker_died"}
    assert report["summary"]["complete"] is False
