"""What every record of a run shares: frozen pydantic models that refuse unknown fields, so a
misspelt key fails where it is written instead of reading back as a silent None.

`Measurements` is the one open shape: the figures the check and profile tools report (timing,
roofline, resources, launches), whose keys vary with the device and the profiling tier. They
travel as JSON values and are read by name where they are used.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, JsonValue

SCHEMA_VERSION = 1  # raised whenever a record's JSON shape changes (docs/schemas/ follows)

# Free-form JSON measured by tools/check and tools/profile (keys vary with device and tier).
Measurements = dict[str, JsonValue]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
