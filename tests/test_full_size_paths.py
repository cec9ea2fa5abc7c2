"""What a check does per byte at KernelBench's full sizes (19_ReLU: 1.6e9 elements an input) stays
proportional to what it must do: the element perturbation draws 3 positions without permuting all of
them; a candidate's output file is written without zip checksums, its digest (taken in pieces as it
is written) the one the parent checks."""

from __future__ import annotations

import pytest
import torch

from kernelwright.tools.worker import common, output_digest, private_copy, trials


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
def test_the_digest_of_a_file_written_in_any_pieces_is_the_one_the_parent_computes(tmp_path, sizes):
    payload = bytes(range(256)) * (sum(sizes) // 256 + 1)
    payload = payload[:sum(sizes)]
    with open(tmp_path / "out.bin", "wb") as f:
        writer = output_digest.HashingWriter(f)
        at = 0
        for size in sizes:
            assert writer.write(payload[at:at + size]) == size
            at += size
    assert (tmp_path / "out.bin").read_bytes() == payload
    assert writer.hexdigest() == output_digest.output_digest(payload) == output_digest.output_digest(payload, threads=False)


def test_the_output_digest_is_blake3_and_the_writer_keeps_it_when_the_candidate_patches_the_class(tmp_path):
    # BLAKE3's published vector for b"abc": the digest is the real hash, not a stand-in.
    assert output_digest.output_digest(b"abc") == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    import blake3

    saved = {name: blake3.blake3.__dict__[name] for name in ("update", "copy", "hexdigest", "__new__")}
    try:  # what code in the candidate's process could do before its output is saved
        blake3.blake3.update = lambda self, data: None
        blake3.blake3.copy = lambda self: self
        blake3.blake3.hexdigest = lambda self: "0" * 64
        blake3.blake3.__new__ = lambda cls, *args, **kwargs: None
        with open(tmp_path / "out.bin", "wb") as f:
            writer = output_digest.HashingWriter(f)
            writer.write(b"abc")
        assert writer.hexdigest() == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    finally:
        for name, value in saved.items():
            setattr(blake3.blake3, name, value)


def test_the_writer_hashes_on_its_own_thread(tmp_path):
    # A pool of the checker's in the candidate's process is one its code could reach.
    import os

    before = sorted(os.listdir("/proc/self/task"))
    with open(tmp_path / "out.bin", "wb") as f:
        output_digest.HashingWriter(f).write(bytes(64 << 20))
    assert sorted(os.listdir("/proc/self/task")) == before


def test_output_files_are_written_without_zip_checksums_and_read_back_whole(tmp_path):
    # torch.save's CRC-32 per record was most of a save's time; the signed digest guards the file.
    from torch.utils.serialization import config

    config.save.compute_crc32 = True  # as a candidate could leave it
    values = [torch.arange(3 * 1024 * 1024, dtype=torch.float32), {"k": torch.ones(2, dtype=torch.bfloat16)}]
    signed = common.save_tensors(tmp_path / "out.pt", values, digest=True)
    assert config.save.compute_crc32 is False
    loaded = common.load_tensors(tmp_path / "out.pt", digest=signed)
    assert torch.equal(loaded[0], values[0]) and torch.equal(loaded[1]["k"], values[1]["k"])


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
    signed = common.save_tensors(tmp_path / "out.pt", values, digest=True)
    loaded = common.load_tensors(tmp_path / "out.pt", digest=signed)
    with open(tmp_path / "out.pt", "r+b") as f:  # in place: the same inode, as a writer in that process would
        data = bytearray(f.read())
        at = data.rfind(b"\x00\x00\x80\x3f")  # 1.0 as float32: an element of the tensor's record
        data[at:at + 4] = b"\x00\x00\x00\x40"  # 2.0
        f.seek(0)
        f.write(data)
    assert torch.equal(loaded[0], values[0])
    with pytest.raises(common.RewrittenFile):  # and read again, the rewrite is refused
        common.load_tensors(tmp_path / "out.pt", digest=signed)
    # Without memfds (another kernel), the bytes are read into memory: the same verdicts.
    monkeypatch.setattr(private_copy, "_memfd_copy", lambda src: None)
    with pytest.raises(common.RewrittenFile):
        common.load_tensors(tmp_path / "out.pt", digest=signed)
    signed = common.save_tensors(tmp_path / "out.pt", values, digest=True)
    assert torch.equal(common.load_tensors(tmp_path / "out.pt", digest=signed)[0], values[0])


def test_a_fifo_in_place_of_an_output_is_refused_without_blocking_the_reader(tmp_path):
    import os

    os.mkfifo(tmp_path / "out.pt")  # nobody writes into it: opening it blocking would wait for ever
    with pytest.raises(common.RewrittenFile, match="not a regular file"):
        common.load_tensors(tmp_path / "out.pt", digest="0" * 64)
