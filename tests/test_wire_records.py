"""The parent reads what a sandboxed child sends strictly: a message that does not fit its record
is the checker's failure (CheckerFailure), never a verdict (tools/worker/wire.py)."""

import json
import typing

import pytest

from kernelwright.tools.problem import CheckerFailure
from kernelwright.tools.worker.events import StreamProfile, TimingStats, parse_events
from kernelwright.tools.worker.kernel_profile import StreamProfileJson
from kernelwright.tools.worker.timing import StatsJson


def test_an_error_event_that_names_a_verdict_it_cannot_raise_is_no_verdict():
    # Only compile_error, runtime_error and needs_gpu come out of an exception in the candidate's
    # process; "accepted" read as a verdict would pass a candidate that raised.
    with pytest.raises(CheckerFailure, match=r"event log is malformed at 0\.error\.kind"):
        parse_events([json.dumps({"event": "error", "kind": "accepted", "error": "boom"})])
    [honest] = parse_events([json.dumps({"event": "error", "kind": "runtime_error", "error": "boom", "case": "shipped-0"})])
    assert honest.kind == "runtime_error" and honest.case == "shipped-0"


def test_an_event_with_a_field_the_worker_never_writes_or_a_coerced_value_is_refused():
    call = {"event": "call", "case": "shipped-0"}
    assert parse_events([json.dumps(call)])[0].case == "shipped-0"
    with pytest.raises(CheckerFailure):
        parse_events([json.dumps({**call, "ok": True})])
    with pytest.raises(CheckerFailure):
        parse_events([json.dumps({"event": "loaded", "state_changes": [], "new_threads": "0"})])  # a string is no count
    with pytest.raises(CheckerFailure):
        parse_events([json.dumps({"event": "verdict", "verdict": "accepted"})])


def test_the_workers_timing_stats_and_the_parents_record_name_the_same_fields():
    assert set(typing.get_type_hints(StatsJson)) == set(TimingStats.model_fields)
    assert set(typing.get_type_hints(StreamProfileJson)) == set(StreamProfile.model_fields)
