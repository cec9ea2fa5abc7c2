"""A failure of the checker's own machinery (a full disk, memory) is a tool failure naming its
cause: never a skipped shape variant (which would drop its protection silently), never "the
reference fails", never a verdict on the candidate."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch

from kernelwright.tools.check.plan import CasePlan, VariantPlan
from kernelwright.tools.worker import reference, reference_trials
from kernelwright.tools.worker.common import CheckerSideError, RewrittenFile, save_tensors
from kernelwright.tools.worker.output_file import read_output, write_output
from kernelwright.tools.worker.reference_protocol import ReferenceRequest

from paths import ROOT

TWICE_PROBLEM = textwrap.dedent(
    """
    import torch
    import torch.nn as nn


    class Model(nn.Module):
        def forward(self, x):
            return x * 2.0


    n = 1024


    def get_inputs():
        return [torch.randn(n, n)]


    def get_init_inputs():
        return []
    """
)
TWICE_SOLUTION = textwrap.dedent(
    """
    import torch
    import torch.nn as nn
    import triton
    import triton.language as tl


    @triton.jit
    def twice(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = offs < n
        tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=m) * 2.0, mask=m)


    class ModelNew(nn.Module):
        def forward(self, x):
            x = x.contiguous()
            y = torch.empty_like(x)
            twice[(triton.cdiv(x.numel(), 65536),)](x, y, x.numel(), BLOCK=65536)
            return y
    """
)


def test_a_failed_write_leaves_no_file_under_its_name(tmp_path):
    with pytest.raises(CheckerSideError, match="could not write ref_a.pt"):
        save_tensors(tmp_path / "gone" / "ref_a.pt", [1])
    save_tensors(tmp_path / "ref_b.pt", [1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref_b.pt"]


def test_a_variant_the_checker_cannot_save_is_a_checker_error_not_a_skipped_variant(tmp_path, monkeypatch):
    problem = tmp_path / "twice.py"
    problem.write_text(TWICE_PROBLEM.replace("n = 1024", "n = 64"))
    shared, private = tmp_path / "shared", tmp_path / "private"
    shared.mkdir()
    private.mkdir()

    def disk_full_for_the_variant(path, values):
        if "variant1" in path.name:
            raise CheckerSideError(f"could not write {path.name}: OSError: [Errno 28] No space left on device")
        return save_tensors(path, values)

    monkeypatch.setattr(reference_trials, "save_tensors", disk_full_for_the_variant)
    req = ReferenceRequest(device="cpu", problem_path=str(problem), shared_dir=str(shared), private_dir=str(private),
                           result_path=str(tmp_path / "result.json"), precision=None, mode="strict", serve=False,
                           variants=[VariantPlan(name="shipped", kind="shipped", cases=[CasePlan(id="shipped-0", seed=1)]),
                                     VariantPlan(name="variant1", kind="sizes", cases=[CasePlan(id="variant1-0", seed=2)])])
    assert reference.main(req.model_dump_json()) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["skipped_variants"] == [] and result["ok"] is False
    assert result["checker_error"].startswith("variant variant1:") and "No space left on device" in result["checker_error"]


def _can_mount_tmpfs() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs user and mount namespaces (unshare -rm) for a small tmpfs")
def test_a_check_whose_trials_do_not_fit_the_disk_is_refused_with_what_it_needs(tmp_path):
    # The check's files on a 6 MiB file system: a trial's 4 MiB output (the candidate's: the inputs
    # are made from their recipe, the reference's outputs stay in its worker), twice, do not fit.
    proc = _check_on_tmpfs(tmp_path, "6m")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["kind"] == "checker_failure" and "verdict" not in out
    assert "2 trials need" in out["error"] and "set TMPDIR to a larger disk" in out["error"]
    assert "the reference itself fails" not in proc.stderr


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs user and mount namespaces (unshare -rm) for a small tmpfs")
def test_a_check_on_a_small_disk_runs_the_trials_that_fit_and_says_so(tmp_path):
    proc = _check_on_tmpfs(tmp_path, "24m")  # about 4 trials of 4.2 MB in 80% of 24 MiB
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["verdict"] == "accepted"
    assert 2 <= len(out["trials"]) < 14
    assert any("dropped to fit the check's scratch space" in n for n in out["notes"])


def _check_on_tmpfs(tmp_path, size: str) -> subprocess.CompletedProcess:
    (tmp_path / "twice.py").write_text(TWICE_PROBLEM)
    (tmp_path / "twice_solution.py").write_text(TWICE_SOLUTION)
    small = tmp_path / "small"
    small.mkdir()
    script = (f"mount -t tmpfs -o size={size} tmpfs {small} && TMPDIR={small} {sys.executable} -m kernelwright check "
              f"{tmp_path / 'twice.py'} {tmp_path / 'twice_solution.py'} --device cpu --sizes full --home {tmp_path / 'home'} --json")
    return subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=600, cwd=ROOT)


def test_a_saved_output_changed_after_its_digest_was_signed_is_refused_and_an_unchanged_one_loads(tmp_path):
    """The digest a candidate's worker signs is of the bytes as they went to the file (BLAKE3, which
    the parent takes again on its threads): one changed byte near the end, or the same values
    written again in another structure, is a RewrittenFile, refused before anything is parsed; the
    unchanged file loads with the same values."""
    from kernelwright.tools.worker import output_digest, output_file

    big = torch.arange(3 * (1 << 20) + 5, dtype=torch.float32)  # past BLAKE3's chunks and its threads' split
    values = [big, {"slot": 1, "out": torch.ones(3, dtype=torch.bfloat16)}, (2, 0.5, None)]
    path = tmp_path / "out_a.pt"
    signed = write_output(path, values)
    assert signed == output_digest.output_digest(path.read_bytes()) == output_digest.output_digest(path.read_bytes(), threads=False)
    loaded = read_output(path, signed)
    assert torch.equal(loaded[0], big) and loaded[2] == [2, None, None]  # a float is not the checker's: None
    data = bytearray(path.read_bytes())
    at = data.index(big[-1].numpy().tobytes(), 12 << 20)  # the last element
    data[at] ^= 1
    rewrites = [bytes(data)]
    write_output(path, [big, {"slot": 2, "out": values[1]["out"]}, values[2]])
    rewrites.append(path.read_bytes())
    parsed = []
    real_parse = output_file.parse
    output_file.parse = lambda buffer: parsed.append(1) or real_parse(buffer)
    try:
        for rewrite in rewrites:
            path.write_bytes(rewrite)
            with pytest.raises(RewrittenFile):
                read_output(path, signed)
    finally:
        output_file.parse = real_parse
    assert parsed == []  # refused before the parser saw a byte
