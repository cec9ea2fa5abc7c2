"""What a check does per byte at KernelBench's full sizes (19_ReLU: 1.6e9 elements an input) stays
proportional to what it must do: the element perturbation draws 3 positions without permuting all of
them; a candidate's output file is written without zip checksums, its digest (taken in pieces as it
is written) the one the parent checks."""

from __future__ import annotations

import pytest
import torch

from kernelwright.tools.worker import common, output_digest, private_copy, trials
from kernelwright.tools.worker.output_file import read_output, write_output


def test_small_tensors_keep_the_positions_every_check_drew_before():
    for n in (2, 3, 1000, trials.PERMUTE_UP_TO):
        drawn = trials.distinct_positions(n, 3, torch.Generator().manual_seed(7))
        assert torch.equal(drawn, torch.randperm(n, generator=torch.Generator().manual_seed(7))[:3])


def test_positions_in_a_huge_tensor_are_distinct_in_range_and_the_same_in_both_workers():
    # 2**40 positions: a permutation of them would need 8 TiB; drawing 3 must not.
    n = 1 << 40
    drawn = [trials.distinct_positions(n, 3, torch.Generator().manual_seed(seed)).tolist() for seed in (1, 1, 2)]
    assert drawn[0] == drawn[1] != drawn[2]
    for positions in drawn:
        assert len(set(positions)) == 3 and all(0 <= p < n for p in positions)
    few = trials.distinct_positions(trials.PERMUTE_UP_TO + 1, 3, torch.Generator().manual_seed(3))
    assert len(set(few.tolist())) == 3


def test_the_element_perturbation_of_a_large_input_changes_three_elements_and_is_repeatable():
    x = torch.arange(trials.PERMUTE_UP_TO + 5, dtype=torch.float32)
    first, what = trials.perturb([x], "elements", seed=11)
    again, _ = trials.perturb([x], "elements", seed=11)
    assert torch.equal(first[0], again[0])
    assert int((first[0] != x).sum()) == 3 and "elements" in what


@pytest.mark.parametrize("sizes", [[0], [1], [1023], [1024], [2048], [2049], [5 * 1024 + 7], [10, 5 * 1024 + 7, 3],
                                   [3000, 3000, 9000], [1024, 1024, 4096 + 1]])
def test_the_digest_of_bytes_hashed_in_any_pieces_is_the_one_the_parent_computes(sizes):
    payload = bytes(range(256)) * (sum(sizes) // 256 + 1)
    payload = payload[:sum(sizes)]
    hasher = output_digest.new_hasher()
    at = 0
    for size in sizes:
        output_digest.update_hasher(hasher, memoryview(payload)[at:at + size])
        at += size
    assert output_digest.hexdigest(hasher) == output_digest.output_digest(payload) == output_digest.output_digest(payload, threads=False)


def test_the_output_digest_is_blake3_and_the_writer_keeps_it_when_the_candidate_patches_the_class(tmp_path):
    # BLAKE3's published vector for b"abc": the digest is the real hash, not a stand-in.
    assert output_digest.output_digest(b"abc") == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    honest = write_output(tmp_path / "honest.out", [torch.arange(1000, dtype=torch.float32)])
    # In a process of its own (a class's __new__ cannot be put back): what code in the candidate's
    # process could do to the hash's class after the worker imported it.
    script = f"""
import blake3, torch
from kernelwright.tools.worker.output_file import write_output
blake3.blake3.update = lambda self, data: None
blake3.blake3.copy = lambda self: self
blake3.blake3.hexdigest = lambda self: "0" * 64
blake3.blake3.__new__ = lambda cls, *args, **kwargs: None
print(write_output({str(tmp_path / "out.pt")!r}, [torch.arange(1000, dtype=torch.float32)]))
"""
    import subprocess
    import sys

    signed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert signed == honest == output_digest.output_digest((tmp_path / "out.pt").read_bytes())


def test_the_writer_hashes_on_its_own_thread(tmp_path):
    # A pool of the checker's in the candidate's process is one its code could reach.
    import os

    before = sorted(os.listdir("/proc/self/task"))
    write_output(tmp_path / "out.pt", [torch.zeros(16 << 20, dtype=torch.uint8)])
    assert sorted(os.listdir("/proc/self/task")) == before


def test_the_element_perturbation_changes_an_input_of_few_distinct_values():
    # Class labels of two values: values copied from elsewhere were often the same as before.
    labels = torch.arange(4096) % 2
    for seed in range(40):
        changed, _ = trials.perturb([labels], "elements", seed=seed)
        assert not torch.equal(changed[0], labels), seed
        again, _ = trials.perturb([labels], "elements", seed=seed)
        assert torch.equal(changed[0], again[0])


def test_a_verified_output_does_not_change_when_its_file_is_rewritten_after_the_read(tmp_path, monkeypatch):
    # The candidate's process may still be alive when its output is read: the loaded tensors must
    # come from the copy that was hashed, not map the file it can still write.
    values = [torch.arange(1024 * 1024, dtype=torch.float32)]
    signed = write_output(tmp_path / "out.pt", values)
    loaded = read_output(tmp_path / "out.pt", signed)
    with open(tmp_path / "out.pt", "r+b") as f:  # in place: the same inode, as a writer in that process would
        data = bytearray(f.read())
        at = data.rfind(b"\x00\x00\x80\x3f")  # 1.0 as float32: an element of the tensor
        data[at:at + 4] = b"\x00\x00\x00\x40"  # 2.0
        f.seek(0)
        f.write(data)
    assert torch.equal(loaded[0], values[0])
    with pytest.raises(common.RewrittenFile):  # and read again, the rewrite is refused
        read_output(tmp_path / "out.pt", signed)
    # Without memfds (another kernel), the bytes are read into memory: the same verdicts.
    monkeypatch.setattr(private_copy, "_memfd_copy", lambda src: None)
    with pytest.raises(common.RewrittenFile):
        read_output(tmp_path / "out.pt", signed)
    signed = write_output(tmp_path / "out.pt", values)
    assert torch.equal(read_output(tmp_path / "out.pt", signed)[0], values[0])


def test_a_fifo_in_place_of_an_output_is_refused_without_blocking_the_reader(tmp_path):
    import os

    os.mkfifo(tmp_path / "out.pt")  # nobody writes into it: opening it blocking would wait for ever
    with pytest.raises(common.RewrittenFile, match="not a regular file"):
        read_output(tmp_path / "out.pt", "0" * 64)
