"""Outputs handed over as sealed memory files (`tools/worker/output_share.py`): the honest hand-over
reads back bit for bit, and every other use of the inbox (what native code in the candidate's
process could send to it: it can find the socket) makes the read a `RewrittenFile`, never a
comparison of bytes the checker's writer did not seal."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap

import pytest
import torch

from kernelwright.tools.worker import output_file, output_share
from kernelwright.tools.worker.output_file import encode, write_encoded
from kernelwright.tools.worker.output_share import SharedInbox, hand_over, send_output, signed_text
from kernelwright.tools.worker.private_copy import RewrittenFile
from kernelwright.tools.worker.signed import share_mac

from paths import ROOT

KEY = bytes(range(32))


@pytest.fixture
def inbox():
    # A short path: a Unix socket's path holds at most 107 bytes (pytest's tmp_path can be longer).
    folder = tempfile.mkdtemp(prefix="kw-inbox-")
    box = SharedInbox(__import__("pathlib").Path(folder) / "o.sock")
    yield box
    box.close()
    os.rmdir(folder)


def _sign(text: str) -> str:
    return share_mac(KEY, text)


def _body(tag: str, fds: list[int], header: bytes, key: bytes = KEY) -> bytes:
    """A message body as the writer signs it, with `key` (the worker's, which a cheat never has)."""
    return f"{tag} {len(fds)} {share_mac(key, signed_text(tag, len(fds), header))}".encode()


ONES = encode(torch.ones(4))[0]  # the header of the value the cheats send


def _raw_send(path: str, body: bytes, fds: list[int]) -> None:
    """What native code in the candidate's process could do: any message, any descriptors."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(path)
        sock.sendmsg([body], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"={len(fds)}i", *fds))] if fds else [])


def _memfd(value, seal: bool = True) -> int:
    header, data = encode(value)
    fd = os.memfd_create("kw-output", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    write_encoded(fd, header, data)
    if seal:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, output_share.SEALS)
    return fd


def test_an_output_handed_over_reads_back_bit_for_bit_from_sealed_pages(inbox):
    out = [torch.randn(65, 33, dtype=torch.float64), torch.arange(10, dtype=torch.int32), 7]
    send_output(str(inbox.path), "case-1", _sign, out)
    got = inbox.take("case-1", KEY)
    assert torch.equal(got[0], out[0]) and torch.equal(got[1], out[1]) and got[2] == 7
    assert len(_open_memfds()) == 1  # the mapping's own (Python's mmap keeps a duplicate): the sender closed its descriptor
    del got
    assert not _open_memfds()  # the last tensor gone, the pages go too


def _open_memfds() -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return [link for link in links if link.startswith("/memfd:kw-output")]


def _unsigned(path: str) -> None:
    fds = [_memfd(torch.ones(4))]
    _raw_send(path, _body("case-1", fds, ONES, key=b"x" * 32), fds)


def _signed_unsealed(path: str) -> None:  # even with the key (it never leaves the worker's log), an unsealed file is refused
    fds = [_memfd(torch.ones(4), seal=False)]
    _raw_send(path, _body("case-1", fds, ONES), fds)


def _signed_regular_file(path: str) -> None:
    with tempfile.TemporaryFile() as f:  # in the format, so only the descriptor's kind gives it away
        header, data = encode([torch.zeros(4)])
        write_encoded(f.fileno(), header, data)
        _raw_send(path, _body("case-1", [f.fileno()], header), [f.fileno()])


def _a_descriptor_the_header_does_not_name(path: str) -> None:
    fds = [_memfd(torch.ones(4)), _memfd(torch.ones(4))]
    _raw_send(path, _body("case-1", fds, ONES), fds)


def _more_descriptors_than_an_output_has(path: str) -> None:
    fds = [_memfd(torch.ones(4)) for _ in range(output_share.MAX_FDS)]
    _raw_send(path, _body("case-1", fds, ONES), fds)


def _a_device_tensor_without_its_descriptor(path: str) -> None:
    fd = os.memfd_create("kw-output", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    header = b"G float32 1 4"
    os.write(fd, output_file.MAGIC + len(header).to_bytes(8, "little") + header)
    import fcntl

    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, output_share.SEALS)
    _raw_send(path, _body("case-1", [fd], header), [fd])


def _no_descriptor(path: str) -> None:
    _raw_send(path, b"case-1 0 00", [])


def _not_a_tag(path: str) -> None:
    _raw_send(path, b"\xff\xfe garbage with spaces", [_memfd(torch.ones(4))])


def _same_tag_first(path: str) -> None:  # sent before the writer's: the tag then arrives twice
    _raw_send(path, f"case-1 1 {'0' * 64}".encode(), [_memfd(torch.ones(4))])


def _signed_for_another_structure(path: str) -> None:  # a body seen once, sent with other contents
    fds = [_memfd(torch.zeros(8))]
    _raw_send(path, _body("case-1", fds, ONES), fds)


CHEATS = {
    "signed for another structure": _signed_for_another_structure,
    "unsigned": _unsigned,
    "signed but not sealed": _signed_unsealed,
    "signed but a regular file": _signed_regular_file,
    "a descriptor the header does not name": _a_descriptor_the_header_does_not_name,
    "more descriptors than an output has": _more_descriptors_than_an_output_has,
    "a device tensor without its descriptor": _a_device_tensor_without_its_descriptor,
    "no descriptor": _no_descriptor,
    "not a tag and signature": _not_a_tag,
    "the case's tag sent first": _same_tag_first,
}


# Instead of the writer's message (its send kept from happening), not beside it: each check is then
# the only one that can refuse it (beside the writer's, the tag would arrive twice).
IN_PLACE = {"signed for another structure", "signed but not sealed", "signed but a regular file", "a descriptor the header does not name",
            "a device tensor without its descriptor"}


@pytest.mark.parametrize("name", CHEATS)
def test_any_message_but_the_writers_makes_the_read_the_candidates_fault(inbox, name):
    CHEATS[name](str(inbox.path))
    if name not in IN_PLACE:
        send_output(str(inbox.path), "case-1", _sign, [torch.zeros(4)])  # the checker's writer, after
    with pytest.raises(RewrittenFile):
        inbox.take("case-1", KEY, wait_s=5.0)


def test_a_message_kept_from_arriving_is_the_candidates_fault_and_a_silent_connection_is_not_one(inbox):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(str(inbox.path))  # connected and closed without a word: nothing to judge
    with pytest.raises(RewrittenFile, match="never reached"):
        inbox.take("case-2", KEY, wait_s=0.5)
    send_output(str(inbox.path), "case-3", _sign, torch.ones(2))
    assert torch.equal(inbox.take("case-3", KEY), torch.ones(2))


def test_without_an_inbox_the_output_goes_to_its_signed_file(tmp_path):
    from kernelwright.tools.worker.output_file import read_output

    digest, on_device = hand_over(str(tmp_path / "nobody.sock"), str(tmp_path / "out_a.pt"), "a", _sign, [torch.ones(3)])
    assert on_device == -1 and torch.equal(read_output(tmp_path / "out_a.pt", digest)[0], torch.ones(3))


def test_handing_over_runs_none_of_the_names_the_candidates_code_can_replace(inbox):
    """In a process of its own, the socket, memfd, fcntl and struct names a sender would look up
    (and the builtins) raise if called; the output still arrives sealed and whole."""
    script = textwrap.dedent(f"""
        import builtins, fcntl, os, socket, struct, sys, torch
        from kernelwright.tools.worker.output_share import send_output
        from kernelwright.tools.worker.signed import share_mac
        called, exit_now = [], os._exit
        def trap(name):
            def replaced(*args, **kwargs):
                called.append(name)
                raise RuntimeError("the sender called " + name)
            return replaced
        out = torch.arange(12, dtype=torch.float32).reshape(3, 4)
        key = bytes(range(32))
        sign = lambda text: share_mac(key, text)
        for owner, names in ((socket, ("socket", "send_fds", "socketpair")), (os, ("memfd_create", "close", "write")),
                             (fcntl, ("fcntl",)), (struct, ("pack",)),
                             (builtins, ("memoryview", "len", "type", "str", "bytes", "int", "list", "tuple", "isinstance"))):
            for name in names:
                setattr(owner, name, trap(name))
        send_output({str(inbox.path)!r}, "case-9", sign, [out])
        sys.stdout.write(repr(called))
        sys.stdout.flush()
        exit_now(0)  # the interpreter's own exit calls the trapped builtins
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "[]"
    assert torch.equal(inbox.take("case-9", KEY)[0], torch.arange(12, dtype=torch.float32).reshape(3, 4))


def test_a_second_message_for_a_case_already_read_makes_the_next_read_the_candidates_fault(inbox):
    send_output(str(inbox.path), "case-1", _sign, torch.ones(2))
    assert torch.equal(inbox.take("case-1", KEY), torch.ones(2))
    fds = [_memfd(torch.ones(4))]
    _raw_send(str(inbox.path), _body("case-1", fds, ONES), fds)  # even signed: only one writer sends a case, once
    send_output(str(inbox.path), "case-2", _sign, torch.ones(2))
    with pytest.raises(RewrittenFile, match="second message"):
        inbox.take("case-2", KEY, wait_s=5.0)
