"""The knowledge memory: hardware optimization lessons with the evidence behind each.

Modules: `model` (Lesson, Evidence), `schema` (connection, migrations), `store` (MemoryStore),
`merging` (duplicate key, merge and confidence rules), `retrieval` (search, rendering for
prompts), `seed_lessons` (the packaged `seeds/lessons.yaml`), `cli` (`kernelwright memory`).

`from kernelwright.memory import MemoryStore, Lesson, Evidence, search` works; the names load on
first use so that importing the package (e.g. to build the CLI parser) stays cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "MemoryStore": "kernelwright.memory.store",
    "UnknownLessonError": "kernelwright.memory.store",
    "Lesson": "kernelwright.memory.model",
    "Evidence": "kernelwright.memory.model",
    "search": "kernelwright.memory.retrieval",
    "lesson_source": "kernelwright.memory.retrieval",
    "render_hits": "kernelwright.memory.retrieval",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kernelwright.memory' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
