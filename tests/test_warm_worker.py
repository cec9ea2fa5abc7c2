"""The warm worker: jobs forked from one zygote (torch and Triton imported once) are kept apart from
each other as cold children are, a poisoned or crashed job leaves nothing for the next, and a check
gives the same verdicts warm and cold."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import textwrap
import time

import pytest

from kernelwright.tools.check.verify import CheckOptions, verify_solution
from kernelwright.tools.sandbox import warm
from kernelwright.tools.sandbox.child import run_child, start_child
from kernelwright.tools.sandbox.mounts import Mounts

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

pytestmark = pytest.mark.skipif(warm.available() is not None, reason=f"no warm worker here: {warm.available()}")
SECRET = "sk-" + "kwwarm" + secrets.token_hex(12)


@pytest.fixture
def jobs():
    root = warm.jobs_root() / f"test-{secrets.token_hex(4)}"
    root.mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def module(folder, body: str, name: str = "kw_job") -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def test_jobs_are_forked_from_one_warm_process(jobs):
    body = "import os, sys; print(os.getppid(), 'torch' in sys.modules)\n"
    first = run_child([module(jobs / "a", body)], jobs / "a", timeout_s=60)
    second = run_child([module(jobs / "b", body)], jobs / "b", timeout_s=60)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    # Both children of the zygote (PID 1 of the sandbox), torch already imported when they start.
    assert first.stdout.split() == ["1", "True"] and second.stdout.split() == ["1", "True"]


def test_a_job_cannot_touch_a_sibling_job(jobs):
    victim_home = jobs / "victim"
    victim = start_child([module(victim_home, f"""
        import os, sys, time
        open("secret.txt", "w").write({SECRET!r})
        print("PID", os.getpid(), flush=True)
        deadline = time.monotonic() + 60
        while not os.path.exists("attack_over") and time.monotonic() < deadline:  # alive through the whole attack
            time.sleep(0.05)
        print("SURVIVED", open("secret.txt").read() == {SECRET!r}, flush=True)
    """)], victim_home, timeout_s=60)
    out = victim_home / "child.stdout"
    victim.wait_until(lambda: out.exists() and "PID" in out.read_text(), 60)
    pid = int(out.read_text().split()[1])
    attacker_home = jobs / "attacker"
    attack = run_child([module(attacker_home, f"""
        import os, signal
        tries = {{
            "read": lambda: open({str(victim_home / "secret.txt")!r}).read(),
            "write": lambda: open({str(victim_home / "secret.txt")!r}, "w").write("overwritten"),
            "list": lambda: os.listdir({str(victim_home)!r}),
            "environ": lambda: open("/proc/{pid}/environ", "rb").read(),
            "memory": lambda: open("/proc/{pid}/mem", "rb").read(1),
            "zygote": lambda: open("/proc/1/environ", "rb").read(),
            "proc_write": lambda: open("/proc/{pid}/comm", "w").write("renamed"),
            "oom_score": lambda: open("/proc/{pid}/oom_score_adj", "w").write("1000"),
            "shared_tmp": lambda: open("/tmp/planted", "w").write("x"),
            "signal": lambda: os.kill({pid}, signal.SIGKILL),
            "signal_zygote": lambda: os.kill(1, signal.SIGKILL),
        }}
        for name, attempt in tries.items():
            try:
                attempt()
                print(name, "DONE")
            except OSError as exc:
                print(name, "DENIED", type(exc).__name__)
    """)], attacker_home, timeout_s=60)
    (victim_home / "attack_over").write_text("")
    assert attack.returncode == 0, attack.stderr
    assert "DONE" not in attack.stdout and attack.stdout.count("DENIED") == 11, attack.stdout
    assert SECRET not in attack.stdout
    result = victim.close(grace_s=60)
    assert "SURVIVED True" in result.stdout, result.stdout + result.stderr


def test_a_job_may_rename_across_its_own_folders(jobs):
    # Triton's cache writes a file into tmp.pid_*/ and renames it one folder up; a Landlock layer
    # without the REFER right answers that with EXDEV (the GPU check failed so on an H100).
    body = """
        import os
        os.makedirs("cache/tmp.pid_1", exist_ok=True)
        open("cache/tmp.pid_1/kernel.cubin", "w").write("x")
        os.replace("cache/tmp.pid_1/kernel.cubin", "cache/kernel.cubin")
        os.link("cache/kernel.cubin", "cache/tmp.pid_1/again")
        print("RENAMED", open("cache/kernel.cubin").read())
    """
    home = jobs / "renamer"
    result = run_child([module(home, body)], home, timeout_s=60)
    assert result.returncode == 0 and result.stdout.split() == ["RENAMED", "x"], result.stderr


def test_a_job_cannot_make_a_fifo_or_a_device_node_even_in_its_own_folder(jobs):
    # os.mkfifo and os.mknod raise no audit event: the kernel is what refuses them. A regular file
    # next to them is still allowed (the same folder, the same call path).
    body = """
        import os, stat
        for name, make in (("fifo", lambda: os.mkfifo("out.pt")), ("node", lambda: os.mknod("dev", stat.S_IFCHR | 0o600, os.makedev(1, 3))),
                           ("fifo_via_mknod", lambda: os.mknod("out2.pt", stat.S_IFIFO | 0o600)), ("file", lambda: os.mknod("plain", stat.S_IFREG | 0o600))):
            try:
                make()
                print(name, "DONE")
            except OSError as exc:
                print(name, "DENIED", exc.errno)
    """
    home = jobs / "fifo"
    result = run_child([module(home, body)], home, timeout_s=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines["file"] == "DONE", result.stdout
    assert all(lines[name].startswith("DENIED") for name in ("fifo", "node", "fifo_via_mknod")), result.stdout
    assert not (home / "out.pt").exists() and not (home / "out2.pt").exists()


def test_a_poisoned_or_crashed_job_leaves_nothing_for_the_next(jobs):
    poison = run_child([module(jobs / "poison", """
        import torch, torch.nn.functional as F
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.set_default_dtype(torch.float64)
        F.gelu = lambda x: x * 0
        torch.add = lambda *a, **k: None
        import ctypes; ctypes.string_at(0)  # and then crash
    """)], jobs / "poison", timeout_s=60)
    assert poison.signal_name == "SIGSEGV"
    after = run_child([module(jobs / "after", """
        import torch, torch.nn.functional as F
        x = torch.ones(3)
        print(torch.get_default_dtype(), torch.backends.cuda.matmul.allow_tf32, float(F.gelu(x)[0]), torch.add(x, x).tolist())
    """)], jobs / "after", timeout_s=60)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip().split(maxsplit=3) == ["torch.float32", "False", "0.8413447141647339", "[2.0, 2.0, 2.0]"]


def test_a_killed_zygote_is_replaced(jobs):
    zygote = warm.zygote_for(gpu=False)
    assert zygote is not None
    os.kill(zygote.proc.pid, signal.SIGKILL)
    zygote.proc.wait()
    deadline = time.monotonic() + 10
    while not zygote.dead and time.monotonic() < deadline:
        time.sleep(0.05)
    again = run_child([module(jobs / "again", "print('alive')\n")], jobs / "again", timeout_s=120)
    assert again.stdout.strip() == "alive" and warm.zygote_for(gpu=False) is not zygote


def test_prestart_starts_the_zygotes_a_cpu_check_forks_from_without_waiting():
    """A CLI check starts its zygotes before its static scan: `prestart` returns at once, and the
    zygotes the check then asks for (the interpreter's, for both workers on the CPU; the
    compiler's for the sm_90 compile) are the ones it started, not new ones."""
    warm.shutdown()
    warm.prestart("cpu")
    deadline = time.monotonic() + 120
    while len(warm._ZYGOTES) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = dict(warm._ZYGOTES)
    assert {(gpu, interpret) for gpu, interpret, _ in started} == {(False, False), (False, True)}
    compiler, interpreter = warm.zygote_for(False, False), warm.zygote_for(False, True)
    assert {id(compiler), id(interpreter)} == {id(z) for z in started.values()}


def test_a_cpu_check_without_the_compile_needs_one_zygote():
    """Both workers of a CPU check fork from the interpreter's zygote: a check that skips the
    sm_90 compile pays one zygote's imports (torch, Triton, dynamo: about 3 s of a core), not two."""
    warm.shutdown()
    opts = CheckOptions(device="cpu", trials=1, variants=False, static_resources=False, timeout_s=120)
    result = verify_solution(PROBLEMS / "gelu_scale.py", SOLUTIONS / "gelu_scale.py", opts)
    assert result.accepted, result.reasons
    assert {(gpu, interpret) for gpu, interpret, _ in warm._ZYGOTES} == {(False, True)}


def test_paths_outside_the_jobs_folder_get_a_cold_child(tmp_path, jobs):
    outside = tmp_path / "problem.py"
    outside.write_text("X = 1\n")
    child = start_child([module(jobs / "cold", "print('ok')\n")], jobs / "cold", mounts=Mounts(readable=(outside,)), timeout_s=60)
    assert type(child).__name__ == "ChildSession"
    assert child.close(grace_s=60).stdout.strip() == "ok"


CASES = [("gelu_scale", "honest_scratch_view"), ("gelu_scale", "write_into_input"), ("softmax_rows", "hardcoded_row_length")]


@pytest.mark.parametrize("problem,case", CASES)
def test_warm_and_cold_checks_give_the_same_verdict(problem, case, monkeypatch):
    opts = CheckOptions(device="cpu", trials=2, variant_trials=1, static_resources=False, timeout_s=120)
    path = CANDIDATES / problem / f"{case}.py"
    warm_result = verify_solution(PROBLEMS / f"{problem}.py", path, opts)
    monkeypatch.setenv("KERNELWRIGHT_WARM", "off")
    cold_result = verify_solution(PROBLEMS / f"{problem}.py", path, opts)
    if "candidate" in warm_result.phases:  # a static-scan reject starts no child at all
        assert "job_confinement" in warm_result.isolation["layers"] and "job_confinement" not in cold_result.isolation["layers"]
    assert warm_result.verdict == cold_result.verdict
    assert [r.check for r in warm_result.reasons] == [r.check for r in cold_result.reasons]
