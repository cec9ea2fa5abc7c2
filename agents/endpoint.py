"""A short probe of the LLM endpoint before a run starts: an unreachable server is bad input found
in seconds, not after the client's retries (timeout_s x (max_retries + 1), minutes by default)."""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request

from kernelwright.tools.problem import InputError

OPENAI_URL = "https://api.openai.com/v1"
PROBE_TIMEOUT_S = 3.0


def endpoint_url(base_url: str | None) -> str:
    """The URL the OpenAI client will call: the config's, else $OPENAI_BASE_URL (the client reads it), else OpenAI's."""
    return (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")


def probe_endpoint(base_url: str | None, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """InputError unless an HTTP server answers at the endpoint within `timeout_s`. Any HTTP answer
    counts (401 or 404 included): the probe asks whether something listens, not whether the key works."""
    url = endpoint_url(base_url)
    request = urllib.request.Request(f"{url}/models", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):  # noqa: S310 - the user's own endpoint
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        why = getattr(exc, "reason", None) or exc
        if isinstance(why, (TimeoutError, socket.timeout)) or "timed out" in str(why):
            why = f"no answer within {timeout_s:g} s"
        raise InputError(f"LLM endpoint {url} is not reachable ({why}): start the server, or fix --base-url "
                         "(config base_url); --policy expert runs without one") from None
