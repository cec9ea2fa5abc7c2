"""A scripted OpenAI-compatible chat server on 127.0.0.1, for testing the real client.

Standard library only. It serves POST /v1/chat/completions from a script of replies, as plain
JSON or, when the request says `"stream": true`, as server-sent events ending in `data: [DONE]`
(with a final usage chunk when `stream_options.include_usage` is set). It records every request
and can answer an error status once, to exercise the client's retries.

    @pytest.fixture
    def openai_server():
        with ScriptedOpenAIServer() as server:
            yield server

    def test_hello(openai_server):
        openai_server.reply("hello", prompt_tokens=12, completion_tokens=3)
        ChatOpenAI(base_url=openai_server.base_url, api_key="x", model="m").invoke("hi")

An empty script answers 400 (never retried), so a runaway caller fails at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str
    prompt_tokens: int = 10
    completion_tokens: int = 5
    finish_reason: str = "stop"
    model: str | None = None  # the model name the server claims; default: the requested one
    tool_call: dict[str, Any] | None = None  # {"name", "arguments": dict}: answer with this tool call


@dataclass
class Failure:
    status: int = 500
    message: str = "scripted failure"
    retry_after_ms: int | None = 10  # keeps the client's backoff short in tests


@dataclass
class ScriptedOpenAIServer:
    script: deque[Reply | Failure] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    served: list[Reply] = field(default_factory=list)  # replies sent, in order (usage to compare)
    chunk_chars: int = 7  # streamed content is cut into pieces of this many characters
    # Request keys this server refuses with a 400 before taking a reply (an endpoint without
    # structured output): e.g. {"response_format"} or {"response_format", "tools"}.
    refuse: set[str] = field(default_factory=set)

    def reply(self, content: str, prompt_tokens: int = 10, completion_tokens: int = 5, **kw: Any) -> None:
        self.script.append(Reply(content, prompt_tokens, completion_tokens, **kw))

    def fail(self, status: int = 500, **kw: Any) -> None:
        self.script.append(Failure(status, **kw))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="openai-server", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def next_entry(self, request: dict[str, Any]) -> Reply | Failure | None:
        with self._lock:
            self.requests.append(request)
            return self.script.popleft() if self.script else None


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    call = reply.tool_call or {}
    return [{"id": "call_1", "type": "function", "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}]


def _message(reply: Reply) -> dict[str, Any]:
    if reply.tool_call:
        return {"role": "assistant", "content": None, "tool_calls": _tool_calls(reply)}
    return {"role": "assistant", "content": reply.content}


def _completion(reply: Reply, model: str, completion_id: str) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model or model,
        "choices": [
            {
                "index": 0,
                "message": _message(reply),
                "finish_reason": "tool_calls" if reply.tool_call else reply.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


def _chunks(reply: Reply, model: str, completion_id: str, size: int, include_usage: bool) -> list[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": reply.model or model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    text = reply.content
    out = [chunk({"role": "assistant", "content": ""})]
    if reply.tool_call:
        out.append(chunk({"tool_calls": [{"index": 0, **_tool_calls(reply)[0]}]}))
    else:
        out += [chunk({"content": text[i : i + size]}) for i in range(0, len(text), size)]
    out.append(chunk({}, "tool_calls" if reply.tool_call else reply.finish_reason))
    if include_usage:  # the OpenAI shape: no choices, only usage, after the finish chunk
        usage = _completion(reply, model, completion_id)["usage"]
        out.append({**chunk({}), "choices": [], "usage": usage})
    return out


def _handler_for(server: ScriptedOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            refused = sorted(server.refuse & set(body))
            if refused:
                with server._lock:
                    server.requests.append(request)
                self._json(400, {"error": {"message": f"unsupported parameter: {refused[0]}", "type": "invalid_request_error",
                                           "param": refused[0]}})
                return
            entry = server.next_entry(request)
            if entry is None:
                self._json(400, {"error": {"message": "scripted server: no reply left", "type": "script"}})
                return
            if isinstance(entry, Failure):
                headers = {"retry-after-ms": str(entry.retry_after_ms)} if entry.retry_after_ms is not None else {}
                self._json(entry.status, {"error": {"message": entry.message, "type": "scripted"}}, headers)
                return
            server.served.append(entry)
            completion_id = f"chatcmpl-{len(server.requests)}"
            model = body.get("model", "scripted")
            if not body.get("stream"):
                self._json(200, _completion(entry, model, completion_id))
                return
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
            for piece in _chunks(entry, model, completion_id, server.chunk_chars, include_usage):
                self.wfile.write(f"data: {json.dumps(piece)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler
