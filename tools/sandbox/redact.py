"""Nothing secret leaves a sandboxed child through what it prints or reports.

Text that comes back from a child (reasons, tracebacks, logs, event fields) is redacted before it
is stored in traces or memory, shown to an LLM or printed: every value of the parent's
secret-bearing environment variables (by name: KEY, TOKEN, SECRET, PASSWORD, ...), and anything
shaped like a well-known credential (OpenAI/Anthropic/GitHub/Hugging Face/AWS/Slack tokens,
bearer tokens, JWTs, PEM private keys). The sandbox already keeps the environment and the user's
files out of the child; this is the second wall, for whatever a degraded sandbox lets through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kernelwright.tools.sandbox.environ import environ_snapshot

REDACTED = "[REDACTED]"
# Environment variable names whose values are secrets.
SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|SIGNATURE|CERT", re.I)
# Values shorter than this are not redacted by value: "1", "true" or a user name would blank out
# unrelated text; real credentials are far longer.
MIN_SECRET_CHARS = 8
CREDENTIAL_SHAPES = re.compile(
    "|".join(
        (
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}",  # OpenAI, Anthropic
            r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bhf_[A-Za-z0-9]{20,}",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
            r"\bAIza[0-9A-Za-z_\-]{30,}",  # Google API keys
            r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWT
            r"\b[Bb]earer\s+[A-Za-z0-9._~+/\-]{16,}=*",
        )
    )
)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the secret-bearing variables of `environ` (default: this process's), longest first
    (so a secret that contains another is replaced whole)."""
    env = environ_snapshot() if environ is None else environ
    values = {v for k, v in env.items() if SECRET_NAME.search(k) and len(v) >= MIN_SECRET_CHARS}
    return sorted(values, key=len, reverse=True)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with secret values and credential-shaped strings replaced by [REDACTED]."""
    return _redact_with(text, secret_values(environ)) if text else text


def _redact_with(text: str, secrets: list[str]) -> str:
    if not text:
        return text
    for value in secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    return CREDENTIAL_SHAPES.sub(REDACTED, text)


def redact_tree(obj: Any, environ: Mapping[str, str] | None = None) -> Any:
    """`redact` applied to every string in a JSON-like structure (dict keys too)."""
    return _redact_tree_with(obj, secret_values(environ))  # the environment is read once, not per string


def _redact_tree_with(obj: Any, secrets: list[str]) -> Any:
    if isinstance(obj, str):
        return _redact_with(obj, secrets)
    if isinstance(obj, dict):
        return {_redact_tree_with(k, secrets): _redact_tree_with(v, secrets) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_redact_tree_with(v, secrets) for v in obj)
    return obj
