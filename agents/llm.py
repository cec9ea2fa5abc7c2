"""The chat model client and one question-and-answer exchange with it, recorded for the trace.

Transient failures are the client's job: `ChatOpenAI(max_retries=N)` hands N to the `openai`
client, which retries connection errors, timeouts, 408, 409, 429 and every 5xx with exponential
backoff (0.5 s doubling to at most 8 s, minus up to 25 % jitter), and waits what a `Retry-After`
or `retry-after-ms` header asks (up to 2 minutes) instead. A streamed request is retried only
before its first chunk. What still fails after that is an `EndpointError`.

An answer that arrives but cannot be parsed is the model's failure, not the endpoint's: `ask`
retries it once, quoting the parse error, and then gives up with `UnusableAnswer`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from kernelwright.agents.parsing import ParseError
from kernelwright.tools.problem import InputError

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

    from kernelwright.agents.context import RunContext

T = TypeVar("T")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
LOCAL_DUMMY_KEY = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any key


class RoleError(Exception):
    """A role could not do its job. `llm_calls` holds the exchanges made before it gave up, so the
    trace still accounts for every token the endpoint reported."""

    def __init__(self, message: str, llm_calls: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.llm_calls: list[dict[str, Any]] = list(llm_calls or [])


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
    kwargs: dict[str, Any] = {
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


def usage_of(message: BaseMessage) -> dict[str, int]:
    """Token counts as the endpoint reported them; zeros where it reported none."""
    meta = getattr(message, "usage_metadata", None)
    if meta:
        prompt, completion = int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)
        total = int(meta.get("total_tokens") or prompt + completion)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    usage = (getattr(message, "response_metadata", None) or {}).get("token_usage") or {}
    prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(usage.get("total_tokens") or prompt + completion),
    }


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


def ask(
    ctx: RunContext,
    role: str,
    messages: Sequence[BaseMessage],
    parse: Callable[[str], T],
) -> tuple[T, list[dict[str, Any]]]:
    """Send `messages` to `ctx.chat_model`, parse the answer; retry once with the parse error.

    Returns the parsed value and one "llm call" record per exchange (`attempt` 1, then 2).
    Raises `UnusableAnswer` when the second answer fails to parse too and `EndpointError` when
    the endpoint fails; both carry the records made so far.
    """
    import openai

    if ctx.chat_model is None:
        raise RoleError(f"{role}: no chat model is configured for the llm policy")
    convo = list(messages)
    calls: list[dict[str, Any]] = []
    error: ParseError | None = None
    for attempt in (1, 2):
        began = time.perf_counter()
        try:
            response = ctx.chat_model.invoke(convo)
        except openai.APIError as exc:
            raise EndpointError(f"{role}: the chat endpoint failed: {exc}", calls) from exc
        latency = time.perf_counter() - began
        text = message_text(response)
        calls.append(
            {
                "role": role,
                "model": _model_name(ctx, response),
                "messages": [{"role": _role_name(m), "content": message_text(m)} for m in convo],
                "response": text,
                "usage": usage_of(response),
                "latency_s": round(latency, 4),
                "attempt": attempt,
            }
        )
        try:
            return parse(text), calls
        except ParseError as exc:
            error = exc
            convo = [*convo, AIMessage(text), retry_message(exc)]
    raise UnusableAnswer(f"{role}: the model's answer was unusable twice: {error}", calls)
