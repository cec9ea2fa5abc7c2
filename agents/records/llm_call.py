"""One exchange with the chat model, as the trace and the cost accounting read it."""

from __future__ import annotations

from typing import Literal

from kernelwright.agents.records.base import Record


class Message(Record):
    role: str
    content: str


class Usage(Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class LlmCall(Record):
    role: str
    model: str | None = None
    messages: tuple[Message, ...] = ()
    response: str = ""
    usage: Usage = Usage()
    cost_usd: float | None = None
    latency_s: float = 0.0
    attempt: int = 1  # 1, then 2 for the retry with the parse error
    answer_format: Literal["json_schema", "tool", "text"] = "text"
    missing: tuple[str, ...] = ()  # what the answer lacked
    round: int | None = None
    candidate: str | None = None
