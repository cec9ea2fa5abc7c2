"""Structured output where the endpoint supports it (config `llm.structured`).

- `json_schema`: the request carries `response_format: {type: json_schema, strict: true}` with
  the role's schema (OpenAI, vLLM, SGLang, llama.cpp, Ollama's OpenAI API read it).
- `tool`: the request offers the schema as the one tool and forces the call (`tool_choice`).
- `off`: plain text, read by the tolerant text parser (agents/parsing.py).
- `auto` (the default): `json_schema` for OpenAI-compatible clients (`ChatOpenAI`), `off` for
  any other chat model (e.g. a scripted test model). If the endpoint refuses the request
  (HTTP 400 naming response_format/tools), the run moves down to `tool`, then to `off`, once,
  and says so in the trace.

Whatever the mode, an answer that is not valid JSON for the schema is read as text, so a server
that ignores `response_format` still works.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

from langchain_core.messages import BaseMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

Mode = Literal["json_schema", "tool", "off"]
MODES = ("auto", "json_schema", "tool", "off")
_DEMOTION: dict[str, Mode] = {"json_schema": "tool", "tool": "off"}


def _is_openai_client(chat_model: Any) -> bool:
    try:
        from langchain_openai.chat_models.base import BaseChatOpenAI
    except ImportError:  # pragma: no cover - langchain-openai is a dependency
        return False
    return isinstance(chat_model, BaseChatOpenAI)


def response_format(schema: type[BaseModel]) -> dict[str, Any]:  # OpenAI's response_format JSON
    function = convert_to_openai_tool(schema, strict=True)["function"]
    return {"type": "json_schema", "json_schema": {"name": function["name"], "description": function.get("description", ""),
                                                   "schema": function["parameters"], "strict": True}}


class StructuredOutput:
    """The mode a run asks in, shared by its roles (thread-safe: candidates ask concurrently)."""

    def __init__(self, requested: str, chat_model: Any) -> None:
        if requested not in MODES:
            raise ValueError(f"llm.structured must be one of {', '.join(MODES)}, not {requested!r}")
        self.requested = requested
        self._mode: Mode = ("json_schema" if _is_openai_client(chat_model) else "off") if requested == "auto" else requested  # type: ignore[assignment]
        self._lock = threading.Lock()
        self.demotions: list[str] = []  # why auto moved down, for the trace

    @property
    def mode(self) -> Mode:
        return self._mode

    def bind(self, chat_model: Any, schema: type[BaseModel] | None, mode: Mode) -> Any:
        """The chat model, set up to ask for `schema` in `mode`."""
        if schema is None or mode == "off":
            return chat_model
        if mode == "json_schema":
            return chat_model.bind(response_format=response_format(schema))
        return chat_model.bind_tools([schema], tool_choice=schema.__name__)

    def read(self, response: BaseMessage, schema: type[BaseModel] | None, mode: Mode, text: str) -> BaseModel | None:
        """The answer as a validated record, or None (then the text parser reads it)."""
        if schema is None or mode == "off":
            return None
        try:
            if mode == "tool":
                calls = [c for c in getattr(response, "tool_calls", None) or [] if c.get("name") == schema.__name__]
                return schema.model_validate(calls[0]["args"]) if calls else None
            return schema.model_validate(json.loads(text))
        except (ValidationError, json.JSONDecodeError, TypeError):
            return None

    def demote(self, mode: Mode, error: Exception) -> bool:
        """After the endpoint refused a `mode` request: in auto mode move down and say True (the
        request is made again), else False (the error stands)."""
        if self.requested != "auto" or mode == "off":
            return False
        message = str(error).lower()
        if not any(word in message for word in ("response_format", "json_schema", "tool", "function")):
            return False
        with self._lock:
            if self._mode == mode:
                self._mode = _DEMOTION[mode]
                self.demotions.append(f"{mode} refused by the endpoint ({str(error)[:200]}); now {self._mode}")
        return True
