"""Runs teach the knowledge memory, and later runs read what was learned in their prompts."""

from __future__ import annotations

import yaml
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from kernelwright.graphs.learning import learn_from_check
from kernelwright.graphs.runner import RunRequest, execute
from kernelwright.memory.store import MemoryStore

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

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
    config.write_text(yaml.safe_dump({"budgets": {"max_iters": 1}, "check": {"device": "cpu", "trials": 1, "variants": False, "timeout_s": 120}}))
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


def attempt(cid, median, parent=None, accepted=True, noise=0.02):
    return {"candidate_id": cid, "parent_id": parent, "origin": "code", "accepted": accepted, "verdict": "accepted",
            "median_ms": median, "reasons": [], "check": {"timing": {"noise_floor": noise}}}


def test_timed_changes_beyond_the_noise_floor_become_lessons_either_way(tmp_path):
    store = MemoryStore(tmp_path / "memory.db")
    state = {"run_id": "run-x", "problem": {"name": "softmax_rows", "source": "torch.softmax(x, dim=-1)"},
             "plan": "STRATEGY: s\nNEXT: BLOCK_SIZE 4096 with num_warps 16\nEXPECTED: e", "attempts": [], "best": attempt("r1-c0", 1.0)}
    faster = learn_from_check(store, state, [attempt("r2-c0", 0.5)])
    slower = learn_from_check(store, {**state, "plan": "STRATEGY: s\nNEXT: num_stages 1\nEXPECTED: e"}, [attempt("r2-c1", 1.5)])
    within = learn_from_check(store, state, [attempt("r2-c2", 0.99)])
    assert len(faster) == 1 and len(slower) == 1 and within == []
    up, down = store.get(faster[0]), store.get(slower[0])
    assert up.kind == "optimization" and up.evidence.speedup == 2.0 and up.evidence.run_id == "run-x"
    assert up.evidence.metrics_before == {"median_ms": 1.0} and up.evidence.metrics_after == {"median_ms": 0.5}
    assert down.kind == "failed-idea" and "num_stages 1" in down.change
    before = store.get(faster[0]).confidence
    assert store.record_outcome(faster[0], improved=False).confidence < before
