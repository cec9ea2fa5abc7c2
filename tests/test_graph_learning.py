"""Runs teach the knowledge memory, and later runs read what was learned in their prompts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import yaml
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from kernelwright.agents.conditions import problem_conditions
from kernelwright.agents.records import Attempt
from kernelwright.agents.records.run_state import validated_update
from kernelwright.graphs.learning import learn_from_check, record_lesson_outcomes
from kernelwright.graphs.runner import RunRequest, execute
from kernelwright.memory.store import MemoryStore

from paths import CANDIDATES, PROBLEMS, SOLUTIONS, TESTS

PLAN = "STRATEGY: one fused kernel\nNEXT: write it\nEXPECTED: one pass over memory"
ANALYSIS = ("BOTTLENECK: launch overhead\nEVIDENCE: no timing on the CPU\nNEXT MOVES: none\n"
            "LESSON: Erf-based gelu matches torch to 2e-6 in fp32\nUse tl.erf, not the tanh form, when the reference is exact gelu.")


class RecordingModel(GenericFakeChatModel):
    """The scripted model, keeping every prompt it was sent."""

    prompts: list = []

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append("\n".join(str(m.content) for m in messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def reply(text: str) -> AIMessage:
    return AIMessage(content=text, usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})


def code(path) -> AIMessage:
    return reply("```python\n" + path.read_text() + "```\n")


def run(tmp_path, problem, replies, name):
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump({"budgets": {"max_iters": 1}, "check": {"device": "cpu", "trials": 1, "variants": False, "timeout_s": 120, "static_resources": False}, "profile": {"tier": "off"}}))
    model = RecordingModel(messages=iter(replies), prompts=[])
    summary = execute(RunRequest(problem=str(problem), home=tmp_path / "home", config_path=str(config), chat_model=model))
    return summary, model.prompts


def test_a_fix_is_learned_with_its_evidence_and_shown_to_a_later_run(tmp_path):
    broken = CANDIDATES / "gelu_scale" / "compile_error_undefined_tl.py"
    first, _ = run(tmp_path, PROBLEMS / "gelu_scale.py", [reply(PLAN), code(broken), code(SOLUTIONS / "gelu_scale.py"), reply(ANALYSIS)], "first")
    assert first.accepted
    store = MemoryStore.in_home(tmp_path / "home")
    learned = store.list(source="learned")
    fix = [lesson for lesson in learned if lesson.kind == "fix"]
    assert len(fix) == 1 and fix[0].evidence.run_id == first.run_id and "compile_error" in fix[0].title
    assert any("Erf-based gelu" in lesson.title and lesson.evidence.run_id == first.run_id for lesson in learned)

    # A similar problem (another gelu chain): its planner's prompt carries the learned fix.
    similar = tmp_path / "gelu_bias.py"
    similar.write_text((PROBLEMS / "gelu_scale.py").read_text().replace("* self.scale + 0.5", "* self.scale - 1.0"))
    # The reused gelu_scale source computes "+ 0.5", so run 2's candidate is wrong; only the prompt matters.
    second, prompts = run(tmp_path, similar, [reply(PLAN), code(SOLUTIONS / "gelu_scale.py"), code(SOLUTIONS / "gelu_scale.py")], "second")
    assert fix[0].title in prompts[0]
    assert not second.accepted
    assert len([lesson for lesson in store.list(source="learned") if lesson.kind == "fix"]) == 1


def attempt(cid, median, parent=None, accepted=True, noise=0.02, verdict="accepted", lessons=(), eager=None) -> Attempt:
    timing = {"noise_floor": noise, **({"speedup_raw": {"eager": eager}} if eager is not None else {})}
    return Attempt(candidate_id=cid, parent_id=parent, iteration=1, accepted=accepted, verdict=verdict, median_ms=median, source_sha="0",
                   source="", check={"timing": timing}, applied_lessons=lessons)


def test_timed_changes_beyond_the_noise_floor_become_lessons_either_way(tmp_path):
    store = MemoryStore(tmp_path / "memory.db")
    state = validated_update({"run_id": "run-x", "problem": {"path": "softmax_rows.py", "name": "softmax_rows", "source": "torch.softmax(x, dim=-1)"},
                              "plan": "STRATEGY: s\nNEXT: BLOCK_SIZE 4096 with num_warps 16\nEXPECTED: e", "attempts": [], "best": attempt("r1-c0", 1.0)})
    faster = learn_from_check(store, state, [attempt("r2-c0", 0.5)])
    slower = learn_from_check(store, {**state, **validated_update({"plan": "STRATEGY: s\nNEXT: num_stages 1\nEXPECTED: e"})}, [attempt("r2-c1", 1.5)])
    within = learn_from_check(store, state, [attempt("r2-c2", 0.99)])
    assert len(faster) == 1 and len(slower) == 1 and within == []
    up, down = store.get(faster[0]), store.get(slower[0])
    assert up.kind == "optimization" and up.evidence.speedup == 2.0 and up.evidence.run_id == "run-x"
    assert up.evidence.metrics_before == {"median_ms": 1.0} and up.evidence.metrics_after == {"median_ms": 0.5}
    assert down.kind == "failed-idea" and "num_stages 1" in down.change
    assert (up.op_family, up.dtype, up.arch) == ("row-reduction", "fp32", "any")
    before = store.get(faster[0]).confidence
    assert store.record_outcome(faster[0], improved=False).confidence < before


def timed(cid, median, eager=None, accepted=True, verdict="accepted", noise=0.02, lessons=("seed-elementwise-block-size",)):
    return attempt(cid, median, accepted=accepted, noise=noise, verdict=verdict, lessons=lessons, eager=eager)


def test_an_applied_lesson_moves_with_the_measured_outcome(tmp_path):
    store = MemoryStore(tmp_path / "memory.db")
    lesson_id = "seed-elementwise-block-size"
    start = store.get(lesson_id).confidence
    state = {"run_id": "run-y", "best": attempt("r1-c0", 1.0)}

    [held] = record_lesson_outcomes(store, state, [timed("r2-c0", 0.5)])  # twice as fast as the best before it
    after_win = store.get(lesson_id)
    assert after_win.confidence > start and after_win.applications == 1
    assert after_win.evidence.run_id == "run-y" and after_win.evidence.speedup == 2.0
    assert held.lesson_outcomes[0].outcome == "held"

    [noise] = record_lesson_outcomes(store, state, [timed("r2-c1", 0.99)])  # within the 2% noise floor: says nothing
    assert store.get(lesson_id).confidence == after_win.confidence
    assert noise.lesson_outcomes[0].outcome == "not measured"

    slower = timed("r2-c2", 2.0)
    broken = timed("r2-c3", None, accepted=False, verdict="wrong_output")
    record_lesson_outcomes(store, state, [slower, broken])
    assert store.get(lesson_id).confidence < after_win.confidence and store.get(lesson_id).applications == 3

    # No best yet: the first accepted kernel is measured against eager.
    [first] = record_lesson_outcomes(store, {"run_id": "run-z", "best": None}, [timed("r1-c0", 0.5, eager=2.0)])
    assert first.lesson_outcomes[0].outcome == "held"


def test_correctness_lessons_are_confirmed_without_timing_and_failed_ideas_are_not_tested(tmp_path):
    store = MemoryStore(tmp_path / "memory.db")
    fix = store.add_lesson("Mask the tail", "Use offsets < n as the mask.", kind="fix", change="add mask")
    idea = store.add_lesson("BLOCK 64 is slow", "Tiny blocks underuse bandwidth.", kind="failed-idea", change="BLOCK=64")
    [cpu] = record_lesson_outcomes(store, {"run_id": "run-c", "best": None}, [timed("r1-c0", None, lessons=(fix.id, idea.id, "no-such-lesson"))])
    assert store.get(fix.id).confidence > fix.confidence
    assert store.get(idea.id).confidence == idea.confidence
    assert [o.lesson_id for o in cpu.lesson_outcomes] == [fix.id, idea.id]


class CitingModel(RecordingModel):
    """A scripted model that cites, in brackets, the first lesson its prompt showed."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        prompt = "\n".join(str(m.content) for m in messages)
        shown = re.search(r"^1\. \[([^\]\s]+)\]", prompt, re.MULTILINE)
        result = super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        message = result.generations[0].message
        message.content = message.content.replace("{LESSON}", shown.group(1) if shown else "none-shown")
        return result


def test_a_run_that_applies_a_lesson_and_fails_lowers_its_confidence(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"budgets": {"max_iters": 1, "max_debug_tries": 0},
                                      "check": {"device": "cpu", "trials": 1, "variants": False, "timeout_s": 120, "static_resources": False}, "profile": {"tier": "off"}}))
    plan = PLAN.replace("write it", "write it with the block size of [{LESSON}]")
    wrong = CANDIDATES / "gelu_scale" / "half_grid.py"
    model = CitingModel(messages=iter([reply(plan), code(wrong)]), prompts=[])
    home = tmp_path / "home"
    before = {lesson.id: lesson.confidence for lesson in MemoryStore.in_home(home).list()}
    summary = execute(RunRequest(problem=str(PROBLEMS / "gelu_scale.py"), home=home, config_path=str(config), chat_model=model))
    assert not summary.accepted
    cited = re.search(r"\[([^\]\s]+)\]", model.prompts[1].split("## Current plan", 1)[-1]).group(1)
    assert cited in before, "the plan must cite a lesson the prompt showed"
    lesson = MemoryStore.in_home(home).get(cited)
    assert lesson.confidence < before[cited] and lesson.evidence.run_id == summary.run_id
    # The trace shows which lesson the attempt applied and what became of it.
    trace = json.loads(subprocess.run([sys.executable, "-m", "kernelwright", "traces", "show", summary.run_id, "--home", str(home), "--json"],
                                      capture_output=True, text=True, check=True).stdout)
    check = [s for s in trace["steps"] if s["node"] == "check"][0]
    assert cited in json.dumps(check)


def test_lessons_are_filed_under_the_problems_family_and_dtype():
    assert problem_conditions((PROBLEMS / "linear_relu.py").read_text()) == {"op_family": "matmul", "dtype": "fp32"}
    assert problem_conditions((PROBLEMS / "softmax_rows.py").read_text())["op_family"] == "row-reduction"
    hand_attention = "def forward(self, q, k, v):\n    return torch.softmax(q @ k.transpose(-1, -2), dim=-1) @ v"
    assert problem_conditions(hand_attention)["op_family"] == "attention"
    clamp = "x = torch.clamp(x, min=0.0, max=6.0).to(torch.bfloat16)  # mean() in a comment does not count"
    assert problem_conditions(clamp) == {"op_family": "elementwise", "dtype": "bf16"}


def test_two_runs_writing_to_one_memory_at_once_lose_nothing(tmp_path):
    home = tmp_path / "home"  # fresh: creating and seeding the files race too
    procs = []
    for tag in ("alpha", "beta"):
        config = tmp_path / f"{tag}.yaml"
        config.write_text(yaml.safe_dump({
            "roles": {"analyst": {"impl": "kw_test_roles:lesson_writer", "options": {"tag": tag, "count": 25}}},
            "budgets": {"max_iters": 1}, "check": {"device": "cpu", "trials": 1, "variants": False, "static_resources": False}, "profile": {"tier": "off"}}))
        cmd = [sys.executable, "-m", "kernelwright", "run", str(PROBLEMS / "add_mul.py"), "--policy", "expert",
               "--config", str(config), "--home", str(home), "--json"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    run_ids = {}
    for tag, proc in zip(("alpha", "beta"), procs):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        run_ids[tag] = json.loads(out)["run_id"]
    learned = MemoryStore.in_home(home).list(source="learned")
    for tag, run_id in run_ids.items():
        mine = [lesson for lesson in learned if lesson.title.startswith(f"{tag} lesson")]
        assert len(mine) == 25 and {lesson.evidence.run_id for lesson in mine} == {run_id}
