"""The JSON schemas of the records, as docs/schemas/ holds them.

    python -m kernelwright.agents.records.schemas docs/schemas   # rewrite them after a record changes

tests/test_record_schemas.py fails when a file there differs from what the records say.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import TypeAdapter

from kernelwright.agents.records import RECORDS, SCHEMA_VERSION
from kernelwright.agents.records.run_state import RunState


def schema_files() -> dict[str, str]:
    """File name -> the schema's JSON text, one file per record and one for the run's state
    (`$defs` carry the nested records)."""
    schemas = {record.__name__: record.model_json_schema(mode="serialization") for record in RECORDS}
    schemas["RunState"] = TypeAdapter(RunState).json_schema(mode="serialization")
    return {f"{name}.json": json.dumps({"$id": f"kernelwright/{name}/v{SCHEMA_VERSION}", **schema}, indent=2, sort_keys=True) + "\n"
            for name, schema in schemas.items()}


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_files().items():
        (folder / name).write_text(text)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
