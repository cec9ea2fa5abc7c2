"""Cache entries in the kernelwright home that carry the SHA-256 of their own value.

The home's caches (device peaks, baseline timings, problem costs) are read by later checks; the
peaks decide the impossible-speed guard. A value that changed after it was written (an edit, a
torn write, a bit flip) no longer matches its digest and reads as a miss, so it is measured
again: a cache hit never decides a verdict on a value that was not measured.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def seal(value: Any) -> dict[str, Any]:
    return {"value": value, "sha256": _digest(value)}


def unseal(entry: Any) -> Any | None:
    """The entry's value, or None when it is missing, of another format or does not match its digest."""
    if not isinstance(entry, dict) or set(entry) != {"value", "sha256"}:
        return None
    return entry["value"] if entry["sha256"] == _digest(entry["value"]) else None
