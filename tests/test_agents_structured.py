"""Structured output (`llm.structured`) with the real `ChatOpenAI` client against the scripted
OpenAI-compatible server on 127.0.0.1: JSON-schema answers, forced tool calls, the fall-back
to plain text, and `auto` moving down when the endpoint refuses a mode."""

import json

import pytest
from openai_server import ScriptedOpenAIServer

from kernelwright.agents import llm_roles
from kernelwright.agents.context import RunContext
from kernelwright.agents.cost import PriceTable
from kernelwright.agents.llm import make_chat_model
from kernelwright.agents.records.run_state import validated_update
from kernelwright.agents.structured import StructuredOutput
from kernelwright.graphs.traces.store import as_json
from kernelwright.tools.check.verify import CheckOptions

from paths import PROBLEMS, SOLUTIONS

GOOD = (SOLUTIONS / "softmax_rows.py").read_text()
PLAN = {"strategy": "one program per row", "next": "BLOCK = next_power_of_2(dim)", "expected": "memory-bound, 2x"}


@pytest.fixture
def server():
    with ScriptedOpenAIServer() as s:
        yield s


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def make_ctx(tmp_path, server, mode: str, **kw) -> RunContext:
    model = make_chat_model("kw-test-model", base_url=server.base_url, timeout_s=10, max_retries=0)
    return RunContext(problem_path=PROBLEMS / "softmax_rows.py", run_dir=tmp_path / "run", home=tmp_path, chat_model=model,
                      model_name="kw-test-model", check=CheckOptions(device="cpu"), structured=StructuredOutput(mode, model), **kw)


def state(iteration: int = 1) -> dict:
    problem = {"path": str(PROBLEMS / "softmax_rows.py"), "name": "softmax_rows",
               "source": (PROBLEMS / "softmax_rows.py").read_text(), "constants": {}}
    return validated_update({"run_id": "t", "problem": problem, "iteration": iteration, "attempts": [], "llm_calls": []})


def test_json_schema_mode_asks_for_the_schema_and_reads_the_json_answer(tmp_path, server):
    server.reply(json.dumps(PLAN), prompt_tokens=1000, completion_tokens=200)
    ctx = make_ctx(tmp_path, server, "json_schema", prices=PriceTable.from_config({"kw-test-*": {"input": 3.0, "output": 15.0}}))
    update = as_json(llm_roles.planner(state(), ctx))
    assert update["plan"]["text"] == "STRATEGY: one program per row\nNEXT: BLOCK = next_power_of_2(dim)\nEXPECTED: memory-bound, 2x"
    assert update["plan"]["next_step"]["change"] == "BLOCK = next_power_of_2(dim)"  # the answer's `next` field, not reparsed
    (call,) = update["llm_calls"]
    assert call["answer_format"] == "json_schema" and call["missing"] == []
    assert call["cost_usd"] == pytest.approx((1000 * 3.0 + 200 * 15.0) / 1e6)
    fmt = server.requests[0]["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "PlanAnswer" and fmt["json_schema"]["strict"] is True
    assert set(fmt["json_schema"]["schema"]["required"]) == {"strategy", "next", "expected"}


def test_tool_mode_forces_the_tool_call_and_reads_its_arguments(tmp_path, server):
    for i in range(2):
        server.reply("", tool_call={"name": "SolutionAnswer", "arguments": {"approach": f"variant {i}", "code": GOOD}})
    ctx = make_ctx(tmp_path, server, "tool", candidates=2)
    update = as_json(llm_roles.coder(state(), ctx))
    assert [c["source"] for c in update["pending"]] == [GOOD, GOOD]
    assert {c["answer_format"] for c in update["llm_calls"]} == {"tool"}
    assert json.loads(update["llm_calls"][0]["response"])["code"] == GOOD  # recorded, so a replay serves it
    body = server.requests[0]["body"]
    assert body["tools"][0]["function"]["name"] == "SolutionAnswer"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "SolutionAnswer"}}
    assert "response_format" not in body


def test_a_server_that_ignores_the_schema_is_read_as_text(tmp_path, server):
    server.reply(f"Plan: rows.\n\n```python\n{GOOD}```\n")
    update = as_json(llm_roles.coder(state(), make_ctx(tmp_path, server, "json_schema")))
    assert update["pending"][0]["source"] == GOOD
    assert update["llm_calls"][0]["answer_format"] == "text"


def test_auto_moves_down_when_the_endpoint_refuses_a_mode(tmp_path, server):
    server.refuse = {"response_format"}
    server.reply("", tool_call={"name": "PlanAnswer", "arguments": PLAN})
    ctx = make_ctx(tmp_path, server, "auto")
    assert ctx.structured.mode == "json_schema"
    update = as_json(llm_roles.planner(state(), ctx))
    assert update["plan"]["text"].startswith("STRATEGY: one program per row")
    assert ["response_format" in r["body"] for r in server.requests] == [True, False]
    assert "tools" in server.requests[1]["body"] and ctx.structured.mode == "tool"
    assert "json_schema refused by the endpoint" in ctx.structured.demotions[0]
    # Off is where auto ends: plain text, no schema in the request.
    server.refuse = {"response_format", "tools"}
    server.reply("STRATEGY: a\nNEXT: b\nEXPECTED: c")
    llm_roles.planner(state(), ctx)
    assert ctx.structured.mode == "off" and "tools" not in server.requests[-1]["body"]


def test_a_fixed_mode_does_not_move_down(tmp_path, server):
    from kernelwright.agents.llm import EndpointError

    server.refuse = {"response_format"}
    with pytest.raises(EndpointError, match="response_format"):
        llm_roles.planner(state(), make_ctx(tmp_path, server, "json_schema"))
    assert len(server.requests) == 1
