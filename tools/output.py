"""The one place command output is printed: a payload as one JSON object on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping


def print_json(obj: Mapping[str, object]) -> None:
    """Any JSON object (a record's dict, a TypedDict); what json cannot encode prints as str."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
