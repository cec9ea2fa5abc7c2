"""Cache entries in the kernelwright home that carry the SHA-256 of their own value.

The home's caches (device peaks, baseline timings, problem costs) are read by later checks; the
peaks decide the impossible-speed guard. A value that changed after it was written (an edit, a
torn write, a bit flip) no longer matches its digest and reads as a miss, so it is measured
again: a cache hit never decides a verdict on a value that was not measured.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Generic, TypeVar

from typing_extensions import TypedDict

T = TypeVar("T")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


class Sealed(TypedDict, Generic[T]):
    """A cache entry: the value and the SHA-256 of its JSON."""

    value: T
    sha256: str


def seal(value: T) -> Sealed[T]:
    return {"value": value, "sha256": _digest(value)}


def unseal(entry: Any) -> Any | None:
    """The entry's value, or None when it is missing, of another format or does not match its digest."""
    if not isinstance(entry, dict) or set(entry) != {"value", "sha256"}:
        return None
    return entry["value"] if entry["sha256"] == _digest(entry["value"]) else None


def read_cache(path: Path | None) -> dict[str, object]:
    """A cache file's entries by key: {} when there is none, or it is not a JSON object (torn,
    edited). The entries stay unchecked objects until `unseal` reads them."""
    try:
        data = json.loads(path.read_text()) if path else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
