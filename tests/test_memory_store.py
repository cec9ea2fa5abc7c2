"""The knowledge memory's store: schema and migrations, seeds, merging, outcomes, sharing, concurrency."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pytest

from kernelwright.memory import schema
from kernelwright.memory.merging import PRIOR_WEIGHT, merge_key, normalize_change
from kernelwright.memory.model import SEED_EVIDENCE_NOTE, Evidence, Lesson
from kernelwright.memory.seed_lessons import load_seed_file
from kernelwright.memory.store import MEMORY_FILE, SEED_STEP_BASE, MemoryStore, UnknownLessonError
from kernelwright.tools.problem import InputError

from paths import ROOT


@pytest.fixture
def store(tmp_path):
    with MemoryStore.in_home(tmp_path / "home") as s:
        yield s


def _lesson(**kw) -> Lesson:
    base = dict(title="Use 8 warps for wide rows", body="More warps spread the row.", op_family="row-reduction",
                arch="sm_90", dtype="bf16", change="num_warps 4 -> 8", source="learned")
    base.update(kw)
    return Lesson(**base)


def test_fresh_home_has_the_seed_lessons(store, tmp_path):
    assert (tmp_path / "home" / MEMORY_FILE).is_file()
    seeds = store.list(source="seed")
    assert len(seeds) >= 30 and store.count() == len(seeds)
    for lesson in seeds:
        assert lesson.id.startswith("seed-")
        assert lesson.evidence.note == SEED_EVIDENCE_NOTE and not lesson.evidence.is_measured()
        assert lesson.change and lesson.body and 0 < lesson.confidence < 1
    assert {lesson.kind for lesson in seeds} == {"optimization", "pitfall", "fix", "failed-idea"}
    assert {"sm_80", "sm_90"} <= {lesson.arch for lesson in seeds}


def test_seed_file_has_distinct_merge_keys():
    _, seeds = load_seed_file()
    keys = [merge_key(s) for s in seeds]
    assert len(set(keys)) == len(keys), "two seeds would merge into one on load"


def test_connection_uses_wal_and_a_busy_timeout(store):
    from kernelwright.tools.sqlite import BUSY_TIMEOUT_S

    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == int(BUSY_TIMEOUT_S * 1000)


def test_migrations_reapply_safely(tmp_path):
    path = tmp_path / "m.db"
    with MemoryStore(path) as first:
        n = first.count()
        assert schema.migrate(first.db) == []  # already applied: nothing to do
        # Forget the bookkeeping: every migration runs again over the existing tables.
        first.db.execute("DELETE FROM migrations WHERE number < ?", [SEED_STEP_BASE])
        assert schema.migrate(first.db) == [number for number, _, _ in schema.MIGRATIONS]
        assert first.count() == n
        assert first.search("register spills")
    with MemoryStore(path) as again:  # reopening neither re-seeds nor duplicates
        assert again.count() == n
        assert schema.applied(again.db) >= {1, 2, 3, SEED_STEP_BASE + load_seed_file()[0]}


def test_add_get_list_forget(store):
    added = store.add(_lesson())
    assert added.id and added.created_at and added.source == "learned"
    assert store.get(added.id) == added
    assert added.id in {x.id for x in store.list(arch="sm_90", op_family="row-reduction", dtype="bf16")}
    assert added.id not in {x.id for x in store.list(arch="sm_80")}
    assert store.forget(added.id).id == added.id
    with pytest.raises(UnknownLessonError) as err:
        store.get(added.id)
    assert isinstance(err.value, InputError) and added.id in str(err.value)
    with pytest.raises(InputError):
        store.forget(added.id)


def test_forgotten_seeds_stay_forgotten(store):
    store.forget("seed-exp2-fast-math")
    store.db.execute("DELETE FROM migrations WHERE number >= ?", [SEED_STEP_BASE])  # as if a new seed version shipped
    store.load_seeds()
    with pytest.raises(UnknownLessonError):
        store.get("seed-exp2-fast-math")


def test_duplicates_merge_instead_of_piling_up(store):
    first = store.add(_lesson(confidence=0.6))
    n = store.count()
    ev = {"metrics_before": {"dram_pct": 40}, "metrics_after": {"dram_pct": 70}, "speedup": 1.4,
          "speedup_spread": 0.03, "run_id": "run-2", "step": 5, "versions": {"torch": "2.11", "triton": "3.6"}}
    again, merged = store.add_or_merge(
        _lesson(title="Eight warps", body="same claim", change="NUM_WARPS  4->8", confidence=0.8, evidence=ev)
    )
    assert merged and again.id == first.id and store.count() == n
    assert normalize_change("NUM_WARPS  4->8") == normalize_change("num_warps 4 -> 8")
    assert again.title == first.title  # the existing text stays
    assert again.evidence.run_id == "run-2" and again.evidence.speedup == 1.4
    assert again.evidence.history[-1].run_id == "run-2"
    assert again.confidence == pytest.approx(0.7)  # equal weights: the mean
    # Different conditions are a different lesson.
    other = store.add(_lesson(arch="sm_80"))
    assert other.id != first.id and store.count() == n + 1


def test_failed_idea_for_the_same_change_counts_against_it(store):
    claim = store.add(_lesson(confidence=0.6))
    after = store.add(_lesson(kind="failed-idea", title="8 warps did not help", evidence={"run_id": "r9", "speedup": 0.97}))
    assert after.id == claim.id
    assert after.confidence < claim.confidence and after.applications == 1 and after.successes == 0


def test_record_outcome_moves_confidence(store):
    lesson = store.add(_lesson(confidence=0.5))
    down = store.record_outcome(lesson.id, improved=False, evidence=Evidence(run_id="r1", step=3, speedup=0.98))
    assert down.confidence == pytest.approx(0.5 - 0.5 / (PRIOR_WEIGHT + 1))
    assert (down.applications, down.successes) == (1, 0)
    assert down.evidence.run_id == "r1" and down.evidence.history[-1].outcome == "not improved"
    up = store.record_outcome(lesson.id, improved=True)
    assert up.confidence > down.confidence and (up.applications, up.successes) == (2, 1)
    assert store.get(lesson.id).confidence == up.confidence
    # A failed idea is confirmed when the change again does not improve things.
    idea = store.add(_lesson(kind="failed-idea", change="SPLIT_K 4", confidence=0.5))
    confirmed = store.record_outcome(idea.id, improved=False).confidence
    assert confirmed > 0.5
    assert store.record_outcome(idea.id, improved=True).confidence < confirmed
    with pytest.raises(UnknownLessonError):
        store.record_outcome("no-such-id", improved=True)


def test_export_then_import_into_a_fresh_home_round_trips(tmp_path):
    buf = io.StringIO()
    with MemoryStore.in_home(tmp_path / "a") as a:
        a.add(_lesson())
        a.record_outcome("seed-group-m-l2-reuse", improved=True, evidence=Evidence(run_id="r7"))
        a.forget("seed-exp2-fast-math")
        n = a.export_jsonl(buf)
        exported = {x.id: x.to_dict() for x in a.list()}
    assert n == len(exported)
    with MemoryStore.in_home(tmp_path / "b", seed=False) as b:
        summary = b.import_jsonl(io.StringIO(buf.getvalue()))
        assert summary.added == n and summary.merged == summary.replaced == 0
        assert {x.id: x.to_dict() for x in b.list()} == exported
        assert b.import_jsonl(io.StringIO(buf.getvalue())).unchanged == n  # importing twice changes nothing
    with MemoryStore.in_home(tmp_path / "c") as c:  # seeded home: seeds match by id
        summary = c.import_jsonl(io.StringIO(buf.getvalue()))
        assert summary.added == 1 and summary.replaced == 1  # the new lesson, the seed with a newer outcome
        assert c.get("seed-group-m-l2-reuse").applications == 1


def test_import_rejects_malformed_input_and_writes_nothing(store):
    n = store.count()
    good = json.dumps(_lesson(id="x1").to_dict())
    for text, where in ((good + "\n{not json\n", "line 2"), (good + '\n{"title": "t"}\n', "record 2"),
                        ('{"title": "t", "body": "b", "kind": "bogus"}\n', "kind")):
        with pytest.raises(InputError, match=where):
            store.import_jsonl(io.StringIO(text), name="f.jsonl")
    assert store.count() == n
    # One JSON object {"lessons": [...]} (what `memory export --json` prints) is accepted too.
    assert store.import_jsonl(io.StringIO(json.dumps({"lessons": [json.loads(good)]}))).added == 1


WRITER = textwrap.dedent(
    """
    import pathlib, sys, time
    from kernelwright.memory.model import Evidence
    from kernelwright.memory.store import MemoryStore
    path, tag = pathlib.Path(sys.argv[1]), sys.argv[2]
    with MemoryStore(path) as store:
        # Start writing only when both processes have the file open, so the writes overlap.
        (path.parent / f"ready-{tag}").touch()
        deadline = time.monotonic() + 60
        while len(list(path.parent.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(50):
            store.add_lesson(f"lesson {tag} {i}", "body", change=f"knob {tag} {i}", evidence=Evidence(run_id=tag))
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared" / MEMORY_FILE
    path.parent.mkdir()
    # Both start on a file that does not exist yet: creation, migrations and seeding race too.
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag], cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for tag in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with MemoryStore(path) as store:
        learned = store.list(source="learned")
        assert len(learned) == 100
        assert {x.evidence.run_id for x in learned} == {"a", "b"}
        assert store.count() == 100 + len(load_seed_file()[1])
