"""The one place command output is printed: a payload as one JSON object on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
