"""docs/schemas/ holds the JSON schema of every record a run writes or keeps, as the code defines it."""

import json

from kernelwright.agents.records import Report
from kernelwright.agents.records.schemas import schema_files

from paths import ROOT

SCHEMAS = ROOT / "docs" / "schemas"


def test_the_schemas_in_docs_are_current():
    expected = schema_files()
    stale = [name for name, text in expected.items() if not (SCHEMAS / name).exists() or (SCHEMAS / name).read_text() != text]
    extra = sorted(p.name for p in SCHEMAS.glob("*.json") if p.name not in expected)
    assert not stale and not extra, (f"stale: {stale}, not a record: {extra}; "
                                     "regenerate with: python -m kernelwright.agents.records.schemas docs/schemas")


def test_a_report_names_its_schema_version():
    schema = json.loads((SCHEMAS / "Report.json").read_text())
    assert schema["properties"]["schema_version"]["default"] == Report.model_fields["schema_version"].default
    assert "schema_version" in Report(run_id="r", problem="p", accepted=False, stop_reason="s", iterations=0, best=None,
                                      usage={}).model_dump()
