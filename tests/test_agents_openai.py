"""The real `ChatOpenAI` client, made by `make_chat_model`, against a scripted OpenAI-compatible
server on 127.0.0.1 (tests/openai_server.py): plain and streamed replies, retries, token usage."""

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from openai_server import ScriptedOpenAIServer

from kernelwright.agents import llm_roles
from kernelwright.agents.context import RunContext
from kernelwright.agents.llm import EndpointError, ask, make_chat_model
from kernelwright.agents.parsing import extract_solution
from kernelwright.agents.records.run_state import validated_update
from kernelwright.graphs.traces.store import as_json
from kernelwright.tools.check.verify import CheckOptions
from kernelwright.tools.problem import InputError

from paths import PROBLEMS, SOLUTIONS

GOOD = (SOLUTIONS / "softmax_rows.py").read_text()
GOOD_ANSWER = f"One program per row.\n\n```python\n{GOOD}```\n"
MESSAGES = [SystemMessage("You write kernels."), HumanMessage("Softmax, please.")]


@pytest.fixture
def openai_server():
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def make_ctx(tmp_path, server, **model_kw) -> RunContext:
    model_kw.setdefault("timeout_s", 10)
    model = make_chat_model("kw-test-model", base_url=server.base_url, **model_kw)
    return RunContext(
        problem_path=PROBLEMS / "softmax_rows.py", run_dir=tmp_path / "run", home=tmp_path,
        chat_model=model, model_name="kw-test-model", check=CheckOptions(device="cpu"),
    )


def served_usage(server) -> list[dict]:
    return [
        {"prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
         "total_tokens": r.prompt_tokens + r.completion_tokens}
        for r in server.served
    ]


def test_plain_reply_is_parsed_and_its_usage_recorded(tmp_path, openai_server):
    openai_server.reply(GOOD_ANSWER, prompt_tokens=123, completion_tokens=456, model="kw-test-model-2025")
    source, calls = as_json(ask(make_ctx(tmp_path, openai_server), "coder", MESSAGES, extract_solution))

    assert source == GOOD
    (call,) = calls
    assert call["usage"] == {"prompt_tokens": 123, "completion_tokens": 456, "total_tokens": 579}
    assert call["model"] == "kw-test-model-2025"  # what the server says it ran
    assert call["response"] == GOOD_ANSWER and call["attempt"] == 1 and call["latency_s"] > 0
    (request,) = openai_server.requests
    assert request["body"]["model"] == "kw-test-model"
    assert [m["role"] for m in request["body"]["messages"]] == ["system", "user"]
    assert not request["body"].get("stream")
    assert request["headers"]["authorization"] == "Bearer not-needed"  # a local server needs no key


def test_streamed_reply_is_reassembled_with_the_final_usage_chunk(tmp_path, openai_server):
    openai_server.reply(GOOD_ANSWER, prompt_tokens=77, completion_tokens=900)
    source, calls = as_json(ask(make_ctx(tmp_path, openai_server, streaming=True), "coder", MESSAGES, extract_solution))

    assert source == GOOD and calls[0]["response"] == GOOD_ANSWER
    assert calls[0]["usage"] == {"prompt_tokens": 77, "completion_tokens": 900, "total_tokens": 977}
    body = openai_server.requests[0]["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retried_by_the_client(tmp_path, openai_server, status):
    openai_server.fail(status)
    openai_server.reply(GOOD_ANSWER, prompt_tokens=5, completion_tokens=6)
    source, calls = as_json(ask(make_ctx(tmp_path, openai_server, max_retries=2), "coder", MESSAGES, extract_solution))

    assert source == GOOD
    assert len(openai_server.requests) == 2  # the failure, then the retry
    assert [c["usage"]["total_tokens"] for c in calls] == [11]  # a failed request reports no usage


def test_streamed_request_is_retried_too(tmp_path, openai_server):
    openai_server.fail(500)
    openai_server.reply(GOOD_ANSWER, prompt_tokens=5, completion_tokens=6)
    _, calls = as_json(ask(make_ctx(tmp_path, openai_server, streaming=True), "coder", MESSAGES, extract_solution))
    assert len(openai_server.requests) == 2 and calls[0]["usage"]["total_tokens"] == 11


def test_an_endpoint_that_keeps_failing_is_an_endpoint_error(tmp_path, openai_server):
    openai_server.fail(500)
    openai_server.fail(500)
    with pytest.raises(EndpointError, match="coder: the chat endpoint failed"):
        ask(make_ctx(tmp_path, openai_server, max_retries=1), "coder", MESSAGES, extract_solution)
    assert len(openai_server.requests) == 2


@pytest.mark.parametrize("streaming", [False, True])
def test_coder_parse_retry_through_the_real_client_accounts_for_every_token(tmp_path, openai_server, streaming):
    openai_server.reply("Sure! I will write it next time.", prompt_tokens=900, completion_tokens=9)
    openai_server.reply(GOOD_ANSWER, prompt_tokens=950, completion_tokens=420)
    state = validated_update({
        "problem": {"path": str(PROBLEMS / "softmax_rows.py"), "name": "softmax_rows", "source": (PROBLEMS / "softmax_rows.py").read_text(),
                    "constants": {"batch_size": 32, "dim": 300}},
        "iteration": 1, "attempts": [],
    })
    update = as_json(llm_roles.coder(state, make_ctx(tmp_path, openai_server, streaming=streaming)))

    assert [c["id"] for c in update["pending"]] == ["r1-c0"] and update["pending"][0]["source"] == GOOD
    assert [c["usage"] for c in update["llm_calls"]] == served_usage(openai_server)
    retry = openai_server.requests[1]["body"]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert "no fenced ```python code block" in retry[-1]["content"]


def test_a_remote_endpoint_needs_the_key_variable(monkeypatch):
    with pytest.raises(InputError, match="KW_TEST_KEY is not set"):
        make_chat_model("gpt-x", base_url="https://api.example.com/v1", api_key_env="KW_TEST_KEY")
    with pytest.raises(InputError, match="OPENAI_API_KEY is not set.*the OpenAI API"):
        make_chat_model("gpt-x", base_url=None)


def test_the_key_comes_from_the_named_variable(tmp_path, openai_server, monkeypatch):
    monkeypatch.setenv("KW_TEST_KEY", "sk-test-123")
    openai_server.reply("hi")
    model = make_chat_model("m", base_url=openai_server.base_url, api_key_env="KW_TEST_KEY", temperature=0.2, max_tokens=64)
    assert model.max_retries == 3 and model.request_timeout == 120
    model.invoke("hello")
    request = openai_server.requests[0]
    assert request["headers"]["authorization"] == "Bearer sk-test-123"
    body = request["body"]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 64  # the name local servers read
