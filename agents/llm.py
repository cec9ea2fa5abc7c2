"""The chat model client and one question-and-answer exchange with it, recorded for the trace.

Transient failures are the client's job: `ChatOpenAI(max_retries=N)` hands N to the `openai`
client, which retries connection errors, timeouts, 408, 409, 429 and every 5xx with exponential
backoff (0.5 s doubling to at most 8 s, minus up to 25 % jitter), and waits what a `Retry-After`
or `retry-after-ms` header asks (up to 2 minutes) instead. A streamed request is retried only
before its first chunk. What still fails after that is an `EndpointError`.

An answer that arrives but cannot be used is the model's failure, not the endpoint's: `ask`
retries it once, quoting the parse error, then takes what was usable (a partial answer) or gives
up with `UnusableAnswer`. Structured output (agents/structured.py) is asked for where the
endpoint supports it; the text parser reads everything else.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from kernelwright.agents.answers import AnswerSpec
from kernelwright.agents.parsing import Parsed, ParseError
from kernelwright.agents.records import LlmCall, Message, Usage
from kernelwright.tools.problem import InputError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langchain_openai import ChatOpenAI

    from kernelwright.agents.context import RunContext
    from kernelwright.agents.tracing import Labels

T = TypeVar("T")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
LOCAL_DUMMY_KEY = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key


class RoleError(Exception):
    """A role could not do its job. `llm_calls` holds the exchanges made before it gave up, so the
    trace still accounts for every token the endpoint reported."""

    def __init__(self, message: str, llm_calls: list[LlmCall] | None = None) -> None:
        super().__init__(message)
        self.llm_calls: list[LlmCall] = list(llm_calls or [])


class UnusableAnswer(RoleError):
    """The model answered twice, and neither answer could be parsed."""


class EndpointError(RoleError):
    """The chat endpoint failed (after the client's own retries): unreachable, refused, 4xx, 5xx."""


def make_chat_model(
    model: str,
    base_url: str | None,
    api_key_env: str = "OPENAI_API_KEY",
    timeout_s: float = 120,
    max_retries: int = 3,
    temperature: float | None = None,
    streaming: bool = False,
    max_tokens: int | None = None,
    stream_usage: bool = True,
) -> ChatOpenAI:
    """A `ChatOpenAI` for OpenAI or any OpenAI-compatible server (vLLM, SGLang, Ollama, llama.cpp).

    The key comes from the environment variable `api_key_env`; a server on localhost may go
    without one. `stream_usage` asks streamed replies for a final usage chunk (every token must
    be accounted for); turn it off only for a server that rejects `stream_options`.
    """
    from langchain_openai import ChatOpenAI

    key = os.environ.get(api_key_env)
    if not key:
        host = urlparse(base_url).hostname if base_url else None
        if host not in LOCAL_HOSTS:
            where = base_url or "the OpenAI API"
            raise InputError(
                f"the environment variable {api_key_env} is not set: export it with the API key for "
                f"{where}, or name the variable that holds the key"
            )
        key = LOCAL_DUMMY_KEY
    kwargs: dict[str, Any] = {  # ChatOpenAI's keyword arguments, of many types
        "model": model,
        "api_key": key,
        "timeout": timeout_s,
        "max_retries": max_retries,
        "streaming": streaming,
        "stream_usage": stream_usage,
    }
    if base_url:
        kwargs["base_url"] = base_url
    if temperature is not None:  # reasoning models refuse any temperature, so send none by default
        kwargs["temperature"] = temperature
    if max_tokens is not None and base_url:
        # ChatOpenAI sends OpenAI's newer `max_completion_tokens`; vLLM, SGLang, Ollama and
        # llama.cpp all read the classic `max_tokens`.
        kwargs["extra_body"] = {"max_tokens": max_tokens}
    elif max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    return ChatOpenAI(**kwargs)


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content is a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def usage_of(message: BaseMessage) -> Usage:
    """Token counts as the endpoint reported them; zeros where it reported none."""
    meta = getattr(message, "usage_metadata", None)
    if meta:
        prompt, completion = int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)
        total = int(meta.get("total_tokens") or prompt + completion)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)
    usage = (getattr(message, "response_metadata", None) or {}).get("token_usage") or {}
    prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=int(usage.get("total_tokens") or prompt + completion))


def _role_name(message: BaseMessage) -> str:
    return {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}.get(message.type, message.type)


def _model_name(ctx: RunContext, response: BaseMessage) -> str | None:
    served = (getattr(response, "response_metadata", None) or {}).get("model_name")
    return served or ctx.model_name or getattr(ctx.chat_model, "model_name", None)


def retry_message(error: ParseError) -> HumanMessage:
    return HumanMessage(
        f"Your answer could not be used: {error}\n\n"
        "Answer again, complete and in the format the instructions ask for."
    )


def _labels(ctx: RunContext, role: str, labels: Labels | None) -> RunnableConfig:
    """Run name, tags and metadata of one LLM call: LangSmith (or any LangChain callback) files it
    under its run, round, role and candidate."""
    from kernelwright.agents.tracing import labels_config

    meta = {"problem": ctx.problem_path.stem, "role": role, **(labels or {})}
    config = labels_config(role + (f" {meta['candidate']}" if meta.get("candidate") else ""), meta)
    config["tags"] = [f"role:{role}", *config["tags"]]
    return config


def _answer_text(response: BaseMessage, mode: str, schema: Any) -> str:
    """What the trace records as the answer: the text, or a forced tool call's arguments as JSON
    (so a replay serves the same answer)."""
    text = message_text(response)
    if mode == "tool" and schema is not None:
        calls = [c for c in getattr(response, "tool_calls", None) or [] if c.get("name") == schema.__name__]
        if calls:
            return json.dumps(calls[0]["args"])
    return text


def ask(
    ctx: RunContext,
    role: str,
    messages: Sequence[BaseMessage],
    answer: AnswerSpec[T] | Callable[[str], T | Parsed[T]],
    labels: Labels | None = None,
) -> tuple[T, list[LlmCall]]:
    """Send `messages` to `ctx.chat_model` and read the answer; retry once with the parse error.

    `answer`: the role's `AnswerSpec` (structured output where `ctx.structured` allows, the text
    parser otherwise) or a plain text parser. `labels` (round, candidate) go into the call's
    LangChain metadata and tags. Returns the value and one "llm call" record per exchange
    (`attempt` 1, then 2), each with the answer's format, what it lacked (`missing`) and its
    cost. When the retry is no better, a partial reading (`ParseError.fallback`) is used if there
    is one; else `UnusableAnswer`. `EndpointError` when the endpoint fails. Both carry the
    records made so far.
    """
    import openai

    if ctx.chat_model is None:
        raise RoleError(f"{role}: no chat model is configured for the llm policy")
    spec = answer if isinstance(answer, AnswerSpec) else None
    parse_text = spec.from_text if spec else answer
    structured = ctx.structured
    convo = list(messages)
    calls: list[LlmCall] = []
    error: ParseError | None = None
    fallback: Parsed | None = None
    attempt = 0
    config = _labels(ctx, role, labels)
    while attempt < 2:
        mode = structured.mode if structured is not None and spec is not None else "off"
        model = structured.bind(ctx.chat_model, spec.schema, mode) if structured is not None and spec is not None else ctx.chat_model
        began = time.perf_counter()
        try:
            response = model.invoke(convo, config=config)
        except openai.BadRequestError as exc:
            if structured is not None and structured.demote(mode, exc):
                continue  # the endpoint refused this mode: the same question in the next one
            raise EndpointError(f"{role}: the chat endpoint failed: {exc}", calls) from exc
        except openai.APIError as exc:
            raise EndpointError(f"{role}: the chat endpoint failed: {exc}", calls) from exc
        attempt += 1
        latency = time.perf_counter() - began
        text = _answer_text(response, mode, spec.schema if spec else None)
        usage = usage_of(response)
        model_name = _model_name(ctx, response)
        record = structured.read(response, spec.schema, mode, text) if structured is not None and spec is not None else None
        call = LlmCall(
            role=role,
            model=model_name,
            messages=tuple(Message(role=_role_name(m), content=message_text(m)) for m in convo),
            response=text,
            usage=usage,
            cost_usd=ctx.prices.cost(usage, model_name, ctx.model_name) if ctx.prices is not None else None,
            latency_s=round(latency, 4),
            attempt=attempt,
            answer_format=mode if record is not None else "text",
            **{k: v for k, v in (labels or {}).items() if k in ("round", "candidate") and v is not None},
        )
        calls.append(call)
        try:
            parsed = spec.from_record(record) if record is not None else parse_text(text)
        except ParseError as exc:
            error = exc
            fallback = exc.fallback or fallback
            calls[-1] = call.model_copy(update={"missing": (str(exc),)})
            convo = [*convo, AIMessage(text), retry_message(exc)]
            continue
        if isinstance(parsed, Parsed):
            calls[-1] = call.model_copy(update={"missing": tuple(parsed.missing)})
            return parsed.value, calls
        return parsed, calls
    if fallback is not None:
        calls[-1] = calls[-1].model_copy(update={"missing": (*fallback.missing, f"used a partial answer: {error}")})
        return fallback.value, calls
    raise UnusableAnswer(f"{role}: the model's answer was unusable twice: {error}", calls)
