"""`kernelwright bench --executor ray` on a local Ray cluster with CPU-only actors (the Triton
interpreter path), offline (expert policy): the distributed bench's verdicts equal a local run's,
every record names where it ran, the driver's HOME holds the traces, and an actor killed
mid-problem costs only that problem one retry elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kernelwright.graphs.traces.store import TraceStore

from paths import PROBLEMS

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install -e '.[ray]'")

# Two problems the expert compiles (elementwise) and one it has no kernel for (an embedding lookup).
SUBSET = "add_mul,embedding_layernorm,gelu_scale"
LEAN = "check: {static_resources: false}\nprofile: {tier: off}\n"  # as tests/test_bench_cli.py: CI time


def bench(*args: str, home: Path, problems: str = SUBSET, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("KERNELWRIGHT_MODEL", "OPENAI_API_KEY", "RAY_ADDRESS")}
    chosen = ["--filter", problems] if problems else []  # a resumed bench keeps its own problems
    return subprocess.Popen([sys.executable, "-m", "kernelwright", "bench", str(PROBLEMS), *chosen, "--device", "cpu",
                             "--max-iters", "1", "--home", str(home), "--json", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen)


def verdicts(report: dict) -> dict[str, tuple]:
    return {r["problem"]: (r["accepted"], r["exit"], r["status"], r["verdict"], r["unsupported"]) for r in report["problems"]}


def _files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _kill_when_running(executor, victim: str, killed: dict) -> None:
    """Once the actor holding `victim` has logged the run's start, SIGKILL its process (as the
    kernel's OOM killer or a lost node would end it)."""
    actor = next(a for a in executor.actors if a.slot.name == killed["actor"])
    log = Path(actor.info.scratch) / "problems" / victim / "worker.log"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if log.exists() and f"run {victim} on" in log.read_text():
            os.kill(actor.info.placement.pid, signal.SIGKILL)
            killed["done"], killed["scratch"] = True, actor.info.scratch
            return
        time.sleep(0.02)


@pytest.fixture(scope="module")
def local_and_ray(tmp_path_factory):
    """The same three problems benched one after another by the local executor, and on a 2-actor
    local Ray cluster whose actor is SIGKILLed in the middle of the third problem, after it had
    finished one."""
    from kernelwright.bench.executor import Slot
    from kernelwright.bench.ray_cluster import RayCluster
    from kernelwright.bench.ray_executor import RayExecutor
    from kernelwright.bench.runner import BenchRequest, run_bench

    tmp = tmp_path_factory.mktemp("ray-bench")
    config = tmp / "lean.yaml"
    config.write_text(LEAN)
    local = bench("--jobs", "1", "--id", "local", "--config", str(config), home=tmp / "local-home")
    out, err = local.communicate(timeout=900)
    assert local.returncode == 0, err[-3000:]

    victim = "gelu_scale"  # the third problem: its actor has already finished one
    killed: dict = {}

    class KillingExecutor(RayExecutor):
        def run(self, tasks, on_start, on_done):
            def start(task, slot: Slot) -> None:
                on_start(task, slot)
                if task.name == victim and not killed:
                    killed["actor"] = slot.name
                    threading.Thread(target=_kill_when_running, args=(self, victim, killed), daemon=True).start()

            super().run(tasks, start, on_done)

    cluster = RayCluster(None, num_cpus=2)
    try:
        req = BenchRequest(folder=str(PROBLEMS), home=tmp / "ray-home", config_path=str(config), device="cpu", jobs=2,
                           filters=[SUBSET], bench_id="ray", show_progress=False,
                           overrides={"budgets": {"max_iters": 1}}, plan=cluster.plan,
                           make_executor=lambda slots: (cluster.connect(), KillingExecutor(slots))[1])
        distributed = run_bench(req).model_dump(mode="json")  # as results.json and bench --json show it
    finally:
        cluster.close()
        shutil.rmtree(killed.get("scratch") or tmp / "none", ignore_errors=True)  # a killed actor cannot remove its own
    assert killed.get("done"), "the victim's run never started"
    return tmp, json.loads(out), distributed, killed["actor"]


def test_ray_bench_verdicts_equal_a_serial_run(local_and_ray):
    _, local, distributed, _ = local_and_ray
    assert verdicts(distributed) == verdicts(local)
    assert verdicts(distributed)["gelu_scale"][:2] == (True, 0) and verdicts(distributed)["embedding_layernorm"][0] is False
    assert distributed["summary"]["complete"] is True
    assert distributed["summary"]["accepted"] == local["summary"]["accepted"] == 2


def test_actor_killed_mid_problem_is_retried_once_elsewhere_and_nothing_finished_is_redone(local_and_ray):
    tmp, _, distributed, killed_actor = local_and_ray
    by_name = {r["problem"]: r for r in distributed["problems"]}
    retried = by_name["gelu_scale"]
    (failure,) = retried["failures"]  # the lost attempt, recorded
    assert failure["actor"] == killed_actor and "Actor" in failure["error"] and failure["node_ip"]
    assert retried["placement"]["actor"] != killed_actor  # the retry ran on the other actor
    assert by_name["add_mul"]["failures"] == by_name["embedding_layernorm"]["failures"] == []
    # The killed actor had finished a problem before: kept, and not run again. One run per
    # problem in the driver's traces (the lost attempt's partial run died with its actor).
    assert killed_actor in {by_name["add_mul"]["placement"]["actor"], by_name["embedding_layernorm"]["placement"]["actor"]}
    traces = TraceStore(tmp / "ray-home" / "traces.db")
    runs = sorted((Path(row["problem"]).stem, row["run_id"]) for row in traces.db["runs"].rows)
    assert runs == sorted((name, r["run_id"]) for name, r in by_name.items())


def test_ray_bench_records_where_each_problem_ran_and_files_it_in_the_driver_home(local_and_ray):
    tmp, _, distributed, _ = local_and_ray
    # Every run writes its report, the one the expert had no kernel for (embedding_layernorm) too.
    assert {r["problem"] for r in distributed["problems"] if (Path(r["run_dir"]) / "report.json").exists()} == {"add_mul", "embedding_layernorm", "gelu_scale"}
    home = tmp / "ray-home"
    traces = TraceStore(home / "traces.db")
    for r in distributed["problems"]:
        where = r["placement"]
        assert where["device"] == "cpu" and where["gpu_index"] is None and where["model"] and where["node_ip"] and where["node_id"]
        assert where["pid"] != os.getpid() and where["actor"] in ("ray-cpu-0", "ray-cpu-1")
        # The actor's run, filed by the driver: its trace row (naming the suite's file) and steps,
        # its run folder in the bench's.
        assert traces.run(r["run_id"]).problem == r["path"] == str(PROBLEMS / f"{r['problem']}.py")
        assert traces.steps(r["run_id"])
        run_dir = Path(r["run_dir"])
        assert run_dir == home / "bench" / "ray" / "problems" / r["problem"] / "run"
        # The same run outputs as the serial bench's (solution, candidates, report).
        local_dir = tmp / "local-home" / "bench" / "local" / "problems" / r["problem"] / "run"
        files = _files_under(run_dir)
        assert files == _files_under(local_dir)
        if "report.json" in files:
            assert json.loads((run_dir / "report.json").read_text())["run_id"] == r["run_id"]
    accepted = next(r for r in distributed["problems"] if r["problem"] == "add_mul")
    assert "@triton.jit" in (Path(accepted["run_dir"]) / "solution.py").read_text()
    # Its LangGraph checkpoints came too: read from the driver's checkpoints.db.
    from kernelwright.bench.worker import best_check

    check = best_check(home, accepted["run_id"])  # None without the run's checkpoints
    assert check is not None and check.timing is None
    from kernelwright.tools.sandbox import warm

    if warm.available() is None:  # the actor's checks forked from its own zygote
        assert "warm worker: forked from a zygote, confined by Landlock" in check.isolation["notes"]


def test_ctrl_c_stops_the_actors_and_a_resume_runs_only_the_rest(tmp_path):
    home = tmp_path / "home"
    # One actor; both problems end quickly (the expert has no kernel for them).
    proc = bench("--executor", "ray", "--jobs", "1", "--id", "stopped", home=home, problems="embedding_layernorm,lstm_cell",
                 start_new_session=True)
    first = home / "bench" / "stopped" / "problems" / "embedding_layernorm" / "result.json"
    deadline = time.monotonic() + 600
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal: the bench's whole process group, Ray's processes too
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    partial = json.loads(out)
    assert [r["problem"] for r in partial["problems"]] == ["embedding_layernorm"] and partial["summary"]["complete"] is False
    assert not (first.parent.parent / "lstm_cell" / "result.json").exists()
    # The actor is gone (killed, not left running lstm_cell); Ray reaps it asynchronously.
    actor = Path(f"/proc/{partial['problems'][0]['placement']['pid']}")
    deadline = time.monotonic() + 120
    while actor.exists() and "zombie" not in (actor / "status").read_text(errors="replace").lower() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not actor.exists() or "zombie" in (actor / "status").read_text(errors="replace").lower()
    assert "continue it with: kernelwright bench --resume stopped" in err

    resumed = bench("--resume", "stopped", home=home, problems="")  # the local executor continues a Ray bench
    out, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 1, err[-3000:]
    assert "1 to run, 1 already finished" in err
    report = json.loads(out)
    assert [r["problem"] for r in report["problems"]] == ["embedding_layernorm", "lstm_cell"]
    assert report["problems"][0]["run_id"] == partial["problems"][0]["run_id"]  # not run again


def test_address_without_the_ray_executor_is_bad_input(tmp_path):
    proc = bench("--address", "auto", home=tmp_path / "home")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--address is for --executor ray" in json.loads(out)["error"]
    assert not (tmp_path / "home" / "bench").exists()


@pytest.mark.gpu
def test_ray_bench_on_gpus_names_each_card(tmp_path):
    import torch

    proc = subprocess.run([sys.executable, "-m", "kernelwright", "bench", str(PROBLEMS), "--filter", "gelu_scale,softmax_rows",
                           "--device", "cuda", "--executor", "ray", "--max-iters", "1", "--home", str(tmp_path / "home"), "--json"],
                          capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    gpus = torch.cuda.device_count()
    for r in report["problems"]:
        where = r["placement"]
        assert r["accepted"] and r["speedup"]["eager"] > 0 and where["device"] == "cuda:0"
        assert 0 <= where["gpu_index"] < gpus and where["model"] == torch.cuda.get_device_name(where["gpu_index"])
