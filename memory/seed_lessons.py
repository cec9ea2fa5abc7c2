"""The curated seed lessons shipped with the package (`seeds/lessons.yaml`).

Callers may rely on: `load_seed_file()` returns (version, lessons) with every lesson validated,
`source="seed"`, a stable `seed-...` id, and evidence whose note says it was not measured here;
`seed_version()` is the file's version alone (cheap: the parsed file is cached per process).
The version number rises whenever the file's lessons change, so existing memory files pick up
new seeds (see `MemoryStore.load_seeds`).
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
from pathlib import Path
from typing import Any

import yaml

from kernelwright.memory.model import SEED_EVIDENCE_NOTE, Lesson


def seed_file() -> Path:
    """Where the seed lessons live inside the installed package."""
    return Path(str(importlib.resources.files("kernelwright.memory") / "seeds" / "lessons.yaml"))


@functools.lru_cache(maxsize=4)
# The YAML document as parsed: free-form data until `load_seed_file` validates each lesson.
def _parsed(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader, C when available


def seed_version(path: str | Path | None = None) -> int:
    """The `version` of the seed file (default: the packaged one)."""
    return int(_parsed(Path(path) if path else seed_file())["version"])


def load_seed_file(path: str | Path | None = None) -> tuple[int, list[Lesson]]:
    """Parse and validate the seed file (default: the packaged one)."""
    p = Path(path) if path else seed_file()
    data = copy.deepcopy(_parsed(p))
    lessons: list[Lesson] = []
    for entry in data["lessons"]:
        if not str(entry.get("id", "")).startswith("seed-"):
            raise ValueError(f"seed lesson {entry.get('title')!r} in {p} needs an id starting with 'seed-'")
        evidence = dict(entry.pop("evidence", None) or {})
        evidence.setdefault("note", SEED_EVIDENCE_NOTE)
        lessons.append(Lesson.model_validate({**entry, "evidence": evidence, "source": "seed"}))
    ids = [lesson.id for lesson in lessons]
    if len(set(ids)) != len(ids):
        raise ValueError(f"seed ids in {p} are not unique")
    return int(data["version"]), lessons
