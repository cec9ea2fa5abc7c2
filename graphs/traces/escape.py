"""HTML escaping for the trace report: everything from a trace (model output included) goes through here."""

from __future__ import annotations

import json
from html import escape
from typing import Any


def _e(value: Any) -> str:
    """Escape anything for HTML text or attribute context."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    return escape(value, quote=True)


