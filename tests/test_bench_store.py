"""The bench's reports are written by its worker threads and, when the bench is stopped, by its
main thread at the same time: each atomic write must survive another one to the same file
between its write and its rename (a stopped bench once failed there with FileNotFoundError)."""

from __future__ import annotations

import json
import os

from pydantic import BaseModel

from kernelwright.bench import store


class Record(BaseModel):
    writer: str


def test_a_write_survives_another_write_to_the_same_file_before_its_rename(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    rename = os.replace
    interleaved = []

    def replace_after_another_writer(src, dst):
        if not interleaved:  # the other thread writes and renames first
            interleaved.append(True)
            store.write_json_atomic(path, Record(writer="other"))
        rename(src, dst)

    monkeypatch.setattr(store.os, "replace", replace_after_another_writer)
    store.write_json_atomic(path, Record(writer="first"))
    assert json.loads(path.read_text()) == {"writer": "first"}  # whole, and the last rename wins
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporary file left behind
