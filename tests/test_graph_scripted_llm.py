"""The built-in LLM roles driving the whole graph, with langchain-core's scripted chat model
(it raises StopIteration when its script runs out, so a runaway loop fails loudly)."""

from __future__ import annotations

import yaml
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from kernelwright.graphs.runner import RunRequest, execute
from kernelwright.graphs.traces.store import TraceStore

from paths import CANDIDATES, PROBLEMS, SOLUTIONS

PLAN = "STRATEGY: one fused kernel\nNEXT: write it\nEXPECTED: one pass over memory"
ANALYSIS = "BOTTLENECK: launch overhead\nEVIDENCE: no timing on the CPU\nNEXT MOVES: none"


def answer(text: str, prompt: int = 1000, completion: int = 100) -> AIMessage:
    usage = {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}
    return AIMessage(content=text, usage_metadata=usage)


def code(path) -> AIMessage:
    return answer("```python\n" + path.read_text() + "```\n")


def run(tmp_path, replies, budgets):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"budgets": budgets, "check": {"device": "cpu", "trials": 2, "timeout_s": 120, "static_resources": False},
                                      "profile": {"tier": "off"}}))
    model = GenericFakeChatModel(messages=iter(replies))
    summary = execute(RunRequest(problem=str(PROBLEMS / "gelu_scale.py"), home=tmp_path / "home", config_path=str(config), chat_model=model))
    return summary, TraceStore(tmp_path / "home" / "traces.db").steps(summary.run_id)


def test_a_wrong_answer_is_debugged_and_a_repeat_ends_the_round(tmp_path):
    wrong = CANDIDATES / "gelu_scale" / "identity_copy.py"
    # planner, coder (wrong), debugger (the same wrong code): the repeat stops debugging, and the
    # iteration budget ends the run. No fifth reply exists: another call would raise.
    summary, steps = run(tmp_path, [answer(PLAN), code(wrong), code(wrong)], {"max_iters": 1, "max_debug_tries": 4})
    assert summary.status == "finished" and not summary.accepted
    assert [s.node for s in steps] == ["plan", "code", "check", "debug", "check", "finish"]
    assert summary.usage.total_tokens == 3 * 1100


def test_the_token_budget_stops_the_run(tmp_path):
    replies = [answer(PLAN), code(SOLUTIONS / "gelu_scale.py"), answer(ANALYSIS)]
    summary, steps = run(tmp_path, replies, {"max_iters": 5, "max_tokens": 3000, "patience": 5})
    assert summary.accepted and "token budget" in summary.stop_reason
    assert [s.node for s in steps] == ["plan", "code", "check", "profile", "analyze", "finish"]
    assert summary.usage.model_dump() == {"prompt_tokens": 3000, "completion_tokens": 300, "total_tokens": 3300}
