"""GPU outputs handed over on the device (`tools/worker/device_share.py` through `output_share`):
bit for bit, from the candidate's sandbox to the reference worker's in a real check, and a
descriptor that is not what the signed header says is the candidate's doing, never compared."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from kernelwright.tools.worker import device_share, output_file
from kernelwright.tools.worker.output_file import MalformedOutput
from kernelwright.tools.worker.output_share import SEALS, SharedInbox, send_output, signed_text
from kernelwright.tools.worker.signed import share_mac

from paths import ROOT

pytestmark = pytest.mark.gpu
KEY = bytes(range(32))
CUDA = torch.device("cuda")


def _sign(text: str) -> str:
    return share_mac(KEY, text)


@pytest.fixture
def inbox():
    folder = tempfile.mkdtemp(prefix="kw-inbox-")
    box = SharedInbox(Path(folder) / "o.sock")
    yield box
    box.close()


def test_a_large_gpu_tensor_goes_on_the_device_and_a_small_one_through_host_memory(inbox):
    share = device_share.load(CUDA)
    assert share is not None
    big = torch.randn(3, 1 << 20, device=CUDA)[:, ::2]  # 6 MB, not contiguous: the writer copies it contiguous
    small = torch.arange(7, dtype=torch.int64, device=CUDA)
    assert send_output(str(inbox.path), "case-1", _sign, [big, small], share) == 1
    got = inbox.take("case-1", KEY, device=CUDA)
    assert got[0].device.type == "cuda" and torch.equal(got[0], big)
    assert got[1].device.type == "cpu" and torch.equal(got[1], small.cpu())
    big.fill_(0)  # the sender's tensor changing afterwards changes nothing handed over
    assert got[0].abs().sum() > 0


def _signed_header_with(inbox, header: bytes, device_fd: int) -> None:
    import fcntl
    import socket
    import struct

    fd = os.memfd_create("kw-output", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, output_file.MAGIC + len(header).to_bytes(8, "little") + header)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(str(inbox.path))
        body = f"case-1 2 {_sign(signed_text('case-1', 2, header))}".encode()  # signed as the writer would: only the descriptor is off
        sock.sendmsg([body], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("=2i", fd, device_fd))])
    os.close(fd)
    os.close(device_fd)


def test_a_device_descriptor_smaller_than_the_header_says_or_not_a_device_allocation_is_malformed(inbox):
    share = device_share.load(CUDA)
    small = torch.ones(1 << 19, device=CUDA)  # 2 MiB exported; the header claims 64 MiB
    _signed_header_with(inbox, b"G float32 1 16777216", share.export_copy(small.data_ptr(), small.nbytes))
    with pytest.raises(MalformedOutput):
        inbox.take("case-1", KEY, device=CUDA)
    other = SharedInbox(Path(tempfile.mkdtemp(prefix="kw-inbox-")) / "o.sock")
    try:
        _signed_header_with(other, b"G float32 1 4", os.memfd_create("not-cuda"))
        with pytest.raises(MalformedOutput):
            other.take("case-1", KEY, device=CUDA)
    finally:
        other.close()


def test_a_gpu_check_hands_its_outputs_over_on_the_device_and_is_judged_as_before():
    proc = subprocess.run([sys.executable, "-m", "kernelwright", "check", "examples/problems/gelu_scale.py", "examples/solutions/gelu_scale.py",
                           "--device", "cuda", "--no-timing", "--keep-workdir", "--json"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["verdict"] == "accepted", result.get("reasons")
    kept = Path(re.search(r"sandbox files kept in (\S+)", proc.stderr).group(1))
    bodies = [json.loads(json.loads(line)["body"]) for line in (kept / "candidate" / "candidate.events.jsonl").read_text().splitlines()]
    results = [b for b in bodies if b["event"] == "result"]
    assert results and all(b["shared"] for b in results)
    assert any(b["on_device"] for b in results)  # gelu_scale's outputs are 64 MB at its size: past device_share.MIN_BYTES
