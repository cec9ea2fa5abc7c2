"""The checker's own file format for a candidate's outputs (`tools/worker/output_file.py`): what it
keeps, what it refuses, and that writing it runs none of the names code in the candidate's process
can replace (red team pass 12 ran its code inside `torch.save` through six of them)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from kernelwright.tools.check.timing import _recheck
from kernelwright.tools.check.tolerance import DEFAULT
from kernelwright.tools.worker.common import save_tensors
from kernelwright.tools.worker.output_digest import output_digest
from kernelwright.tools.worker.output_file import ALIGN, MAGIC, MalformedOutput, read_output, write_output
from kernelwright.tools.worker.private_copy import RewrittenFile

from paths import ROOT


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        if not (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape):
            return False
        bits = lambda t: t.contiguous().reshape(-1).view(torch.uint8)  # noqa: E731 - NaN-safe, bit for bit
        return a.numel() == 0 or torch.equal(bits(a), bits(b))
    if isinstance(a, (list, tuple)):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def test_every_kind_of_output_comes_back_bit_for_bit(tmp_path):
    wide = torch.randn(7, 9, dtype=torch.float64)
    values = [
        torch.randn(5, 3), torch.randn(4, 4).to(torch.bfloat16), torch.tensor([True, False, True]), torch.tensor(3),
        torch.empty(0, 4), wide.t(),  # a zero-size tensor, then a non-contiguous view (saved contiguous)
        (torch.arange(6, dtype=torch.int32).reshape(2, 3), [torch.tensor([float("nan"), -0.0])]),
        {"slot": 2, "out": torch.ones(2, dtype=torch.float16)}, 7, -3,
    ]
    signed = write_output(tmp_path / "out.pt", values)
    loaded = read_output(tmp_path / "out.pt", signed)
    assert _same(values, loaded)  # tuples come back as lists, as the comparison takes outputs
    assert loaded[5].is_contiguous() and torch.equal(loaded[5], wide.t())


def test_what_is_not_the_checkers_is_written_as_none_and_never_touched(tmp_path):
    touched = []

    class Sub(torch.Tensor):
        pass

    class Loud(float):
        def __repr__(self):
            touched.append("repr")
            return "0.5"

        __str__ = __format__ = __repr__

    values = [torch.ones(2).as_subclass(Sub), Loud(0.5), "text", 1.5, True]
    loaded = read_output(tmp_path / "out.pt", write_output(tmp_path / "out.pt", values))
    assert loaded == [None] * 5 and touched == []


def test_a_dict_not_keyed_by_names_is_none_and_a_conjugate_or_negative_view_is_its_values(tmp_path):
    # Red team pass 16: `{1: y}` made the writer raise, so the worker crashed instead of logging the
    # call (the comparison would have said output_type); a conjugate view could not be viewed as bytes.
    z = torch.randn(3, dtype=torch.complex64)
    values = [{1: torch.ones(2)}, {"slot": 1, "out": z.conj()}, torch._neg_view(torch.ones(2))]
    loaded = read_output(tmp_path / "out.pt", write_output(tmp_path / "out.pt", values))
    assert loaded[0] is None
    assert torch.equal(loaded[1]["out"], z.conj().resolve_conj()) and torch.equal(loaded[2], -torch.ones(2))


def test_tensors_start_aligned_whatever_the_header_length(tmp_path):
    for n in range(1, 9):  # headers of several lengths: each float64 tensor still maps at its dtype
        values = [torch.arange(n, dtype=torch.float64)] * n
        path = tmp_path / f"out{n}.pt"
        loaded = read_output(path, write_output(path, values))
        assert all(torch.equal(x, values[0]) for x in loaded)
        header_end = len(MAGIC) + 8 + int.from_bytes(path.read_bytes()[len(MAGIC):len(MAGIC) + 8], "little")
        assert path.stat().st_size == header_end + (-header_end % ALIGN) + n * (n * 8 + (-(n * 8) % ALIGN)) - (-(n * 8) % ALIGN)


def _signed(path, data: bytes) -> str:
    path.write_bytes(data)
    return output_digest(data)


def _file(header: str, *payload: bytes) -> bytes:
    head = header.encode()
    out = MAGIC + len(head).to_bytes(8, "little") + head
    for p in payload:
        out += bytes(-len(out) % ALIGN) + p
    return out


@pytest.mark.parametrize("data, why", [
    (b"PK\x03\x04" + bytes(60), "not in the checker's format"),  # a zip archive (torch.save), signed
    (MAGIC + (10**6).to_bytes(8, "little") + b"T", "runs past its end"),
    (_file("T float32 1 4", bytes(8)), "shorter than its header"),
    (_file("T float32 1 2", bytes(8)) + b"x", "more than its header describes"),
    (_file("T float99 1 2", bytes(8)), "unknown dtype"),
    (_file("T float32 1 -2", bytes(8)), "where a count belongs"),
    (_file("Q 3"), "unknown item"),
    (_file("L 2 N"), "ends early"),
    (_file("D 1 X a N"), "without its key"),
    (_file("I seven"), "where an int belongs"),
    (MAGIC + (2).to_bytes(8, "little") + b"\xff\xfe", "not ASCII"),
    (_file("L 2 T uint8 1 1 T uint8 1 1", b"\x01") + b"\x07" + bytes(ALIGN - 2) + b"\x02", "bytes between its tensors"),
])
def test_signed_bytes_not_in_the_format_are_refused_as_the_candidates_doing(tmp_path, data, why):
    # The digest matches (the candidate's process wrote them through the checker's writer or a
    # replacement of it): a parse failure is the candidate's, never a checker crash.
    path = tmp_path / "out.pt"
    with pytest.raises(MalformedOutput, match=why) as caught:
        read_output(path, _signed(path, data))
    assert isinstance(caught.value, RewrittenFile)


def test_the_well_formed_twin_of_the_malformed_files_reads(tmp_path):
    path = tmp_path / "out.pt"
    data = _file("L 2 T uint8 1 1 T uint8 1 1", b"\x01", b"\x02")
    assert read_output(path, _signed(path, data)) == [torch.tensor([1], dtype=torch.uint8), torch.tensor([2], dtype=torch.uint8)]


def test_a_fifo_where_the_partial_file_used_to_go_does_not_block_the_writer(tmp_path):
    os.mkfifo(tmp_path / "out.pt.partial")  # the old name: the writer's partial name is drawn at random now
    signed = write_output(tmp_path / "out.pt", [torch.ones(3)])
    assert torch.equal(read_output(tmp_path / "out.pt", signed)[0], torch.ones(3))


def test_writing_runs_none_of_the_names_the_candidates_code_can_replace(tmp_path):
    """In a process of its own, everything red team pass 12 replaced (and the builtins and path
    methods a writer would look up) raises if called; the output is still written whole and right."""
    script = textwrap.dedent(f"""
        import builtins, copyreg, pathlib, sys, torch
        from torch.utils.serialization import config
        from kernelwright.tools.worker.output_file import write_output
        called = []
        def trap(name):
            def replaced(*args, **kwargs):
                called.append(name)
                raise RuntimeError("the writer called " + name)
            return replaced
        class Byteorder(str):
            def __eq__(self, other):
                called.append("byteorder")
                return str.__eq__(self, other)
            __hash__ = str.__hash__
        out = torch.arange(12, dtype=torch.float32).reshape(3, 4)
        for name in ("memoryview", "len", "open", "isinstance", "type", "str", "bytes", "int", "range", "min", "format", "list", "tuple",
                     "dict", "bool", "getattr", "hasattr", "iter", "next", "any", "all", "enumerate", "zip", "sum", "max"):
            setattr(builtins, name, trap(name))
        sys.byteorder = Byteorder("little")
        config.save.storage_alignment = 64
        torch.save = trap("torch.save")
        torch.Tensor.numpy = trap("Tensor.numpy")
        torch.Tensor.contiguous = trap("Tensor.contiguous")
        torch.Tensor.clone = trap("Tensor.clone")
        pathlib.PurePath.__fspath__ = trap("__fspath__")
        pathlib.PurePath.__str__ = trap("__str__")
        copyreg.dispatch_table[torch.Tensor] = trap("copyreg")
        digest = write_output({str(tmp_path / "out.pt")!r}, [out, {{"slot": 1, "out": (out,)}}])
        sys.stdout.write(digest + " " + repr(called))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    digest, called = done.stdout.split(" ", 1)
    assert called == "[]"
    loaded = read_output(tmp_path / "out.pt", digest)
    expected = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    assert torch.equal(loaded[0], expected) and torch.equal(loaded[1]["out"][0], expected) and loaded[1]["slot"] == 1


def test_signed_timed_records_not_of_the_workers_shape_are_refused_not_crashed_on(tmp_path):
    ref, cand = tmp_path / "r", tmp_path / "c"
    ref.mkdir()
    cand.mkdir()
    save_tensors(ref / "timed_0.pt", {"slot": 0, "out": torch.ones(4)})
    samples = write_output(cand / "timed_samples.pt", None)
    for record in ([torch.ones(4)], {"slot": 5, "out": torch.ones(4)}, {"out": torch.ones(4)}, 7):
        digests = {"timed_0.pt": write_output(cand / "timed_0.pt", record), "timed_samples.pt": samples}
        with pytest.raises(RewrittenFile, match="record the worker writes"):
            _recheck(cand, ref, "cpu", "strict", DEFAULT, 1, digests)
    digests = {"timed_0.pt": write_output(cand / "timed_0.pt", {"slot": 0, "out": torch.ones(4)}),
               "timed_samples.pt": write_output(cand / "timed_samples.pt", [1, 2])}
    with pytest.raises(RewrittenFile, match="samples record"):
        _recheck(cand, ref, "cpu", "strict", DEFAULT, 1, digests)
    digests["timed_samples.pt"] = write_output(cand / "timed_samples.pt", None)
    assert _recheck(cand, ref, "cpu", "strict", DEFAULT, 1, digests) is None  # the honest twin


def test_the_python_dispatcher_switched_on_is_global_state_and_the_worker_reads_tensors_through_c_getters():
    # Red team pass 13: with the Python dispatcher on, a `py_impl` kernel for aten::clone ran inside
    # the worker's copy of the output (nothing counts py_impl); a property or method put on
    # torch.Tensor ran inside the worker's steps after the call. The first shows in the global
    # state; the second is never looked up (C getters of TensorBase).
    from kernelwright.tools.check import guards
    from kernelwright.tools.worker import output_capture

    before = guards.global_state_snapshot()
    switch = torch._C._EnablePythonDispatcher()
    try:
        assert "python dispatcher: False -> True" in guards.diff_state(before, guards.global_state_snapshot())
    finally:
        del switch
    assert guards.diff_state(before, guards.global_state_snapshot()) == []
    out = torch.ones(2, 3)
    torch.Tensor.shape = property(lambda self: (9, 9))  # what a candidate's forward could leave
    torch.Tensor.numel = lambda self: 0
    try:
        assert output_capture.output_description(out)["shape"] == [2, 3]
        assert output_capture.shares_memory(out, [out])
    finally:
        del torch.Tensor.shape, torch.Tensor.numel


def test_an_output_nested_too_deep_or_too_wide_is_named_not_listed_and_written_as_none(tmp_path):
    # Red team pass 15: a list nested 300 deep overflowed the parent's reader of the description,
    # 3 million items ran it out of memory. Past the caps the container is named (so the structure
    # comparison rejects it) and the writer puts None there.
    from kernelwright.tools.worker.output_capture import MAX_DEPTH, MAX_ITEMS, output_description

    deep = torch.ones(2)
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    wide = [None] * (MAX_ITEMS + 1)
    described = output_description(deep)
    for _ in range(MAX_DEPTH):
        described = described["items"][0]
    assert described["type"].startswith("list<deeper-than") and "items" not in described
    assert output_description(wide)["type"].startswith("list<") and "items" not in output_description(wide)
    assert output_description([None] * MAX_ITEMS)["items"] == [{"type": "builtins.NoneType"}] * MAX_ITEMS
    path = tmp_path / "out.pt"
    assert read_output(path, write_output(path, wide)) is None
    loaded = read_output(path, write_output(path, deep))
    for _ in range(MAX_DEPTH + 1):
        loaded = loaded[0]
    assert loaded is None


def test_the_structure_is_judged_from_the_signed_description_before_the_file_is_read(tmp_path):
    # An int or a wrong dtype is the candidate's output_type / dtype_mismatch, not a malformed
    # file, and a huge output of the wrong structure is never read: here there is no file at all.
    from kernelwright.tools.worker.events import OutputDescription
    from kernelwright.tools.worker.reference_compare import HeldOutputs, compare_case
    from kernelwright.tools.worker.reference_protocol import CompareEntry

    held = HeldOutputs(torch.device("cpu"))
    held.keep("a", torch.ones(4))
    for desc, verdict in ((OutputDescription(type="builtins.int"), "output_type"),
                          (OutputDescription(type="torch.Tensor", shape=[4], dtype="float8_e4m3fn", device="cpu"), "dtype_mismatch")):
        entry = CompareEntry(case="a", file=str(tmp_path / "never_written.pt"), digest="0" * 64, output=desc, poison=None)
        assert compare_case(held, entry, DEFAULT, "strict").verdict == verdict
