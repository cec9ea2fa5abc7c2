"""Candidate outputs handed over as sealed memory files instead of written to disk and hashed.

The candidate's worker writes each checked output in the checker's own format (`output_file`)
into a fresh memfd, seals it (no write, grow or shrink, and no more seals, for anyone, ever), sends
the descriptor to the reference worker over a Unix socket (SCM_RIGHTS) with a tag and an HMAC
under the candidate's event-log key (`signed_text`: the tag, the descriptors' count, the header's
digest), and closes its own descriptor. From then on the
reference worker holds the only reference, and the kernel guarantees the bytes never change: no
digest is needed on either side, no byte touches the disk, and the reader maps the pages the
writer wrote (no private copy). At KernelBench's sizes this drops, for every trial, the writer's
hash, the file write, the reader's copy and its hash (docs/benchmarks.md, "Sealed outputs").

Why this is as safe as the signed file (and what decides it):
- Nothing of the candidate's runs between the call's checks and the seal (the same premise the
  file writer rests on: `output_capture`); the writer calls only C functions captured at import.
- A message the candidate's own code sends to the socket (it can find the path: the shared folder
  is readable) carries no valid HMAC, or a tag already taken, or a descriptor that is not a fully
  sealed memfd: every one of those makes any read from the inbox a `RewrittenFile`
  (static_violation), never a comparison.
- The candidate can keep a message from arriving (close or replace the socket, kill the
  connection): the case's output is then missing, which is the candidate's fault too.

The reader (`SharedInbox`) lives in the reference worker, a trusted process: a thread there
accepts one connection per message and keeps what arrives until the parent's compare command
asks for a case (it waits for a late message, up to WAIT_S).
"""

from __future__ import annotations

import _socket
import contextlib
import fcntl
import mmap
import os
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.tools.worker.output_file import (
    MAX_DEVICE_SHARES,
    MalformedOutput,
    encode,
    header_bytes,
    parse,
    read_output,
    write_encoded,
    write_output,
)
from kernelwright.tools.worker.private_copy import RewrittenFile
from kernelwright.tools.worker.signed import sha256_hex, valid_share_mac

SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE
MAX_BODY = 512  # a tag and its MAC; more is not the checker's message
# A message carries the sealed file and its tensors exported on the device (`device_share`), at
# most MAX_DEVICE_SHARES; one more is room to see (and refuse) a message that carries more.
MAX_FDS = 2 + MAX_DEVICE_SHARES
WAIT_S = 30.0  # a message sent before the result event was logged arrives long before this
ACCEPT_POLL_S = 0.2
RECEIVE_S = 5.0  # the writer sends right after it connects: a connection that stays silent is not the writer

# Captured before the candidate's code is imported: C functions and methods only.
_memfd_create, _fcntl, _os_close = os.memfd_create, fcntl.fcntl, os.close
_Socket = _socket.socket
_connect, _sendmsg, _sock_close = _Socket.connect, _Socket.sendmsg, _Socket.close
_pack_fds = struct.pack  # a builtin function of the C module, captured
_AF_UNIX, _SEQPACKET, _SOL_SOCKET, _SCM_RIGHTS = socket.AF_UNIX, socket.SOCK_SEQPACKET, socket.SOL_SOCKET, socket.SCM_RIGHTS
_MFD_FLAGS = os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING
_encode_text, _len = str.encode, len


def send_output(socket_path: str, tag: str, sign: Callable[[str], str], value: Any, share: Any = None) -> int:
    """Hand `value` (as `output_file.write_output` would write it) to the inbox at `socket_path`
    in a sealed memfd, under `tag` signed by `sign` (the worker's `EventLog.share_mac`: the key
    stays in the log); with `share` (a `device_share.DeviceShare`), its GPU tensors go as exported
    device allocations beside it; how many went so. Raises OSError when the inbox cannot be reached."""
    fds: list[int] = []
    try:
        header, data = encode(value, share, fds)
        fd = _memfd_create("kw-output", _MFD_FLAGS)
        fds.insert(0, fd)
        write_encoded(fd, header, data)
        _fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
        body = _encode_text(f"{tag} {_len(fds)} {sign(signed_text(tag, _len(fds), header))}", "ascii")
        sock = _Socket(_AF_UNIX, _SEQPACKET)
        try:
            _connect(sock, socket_path)
            _sendmsg(sock, [body], [(_SOL_SOCKET, _SCM_RIGHTS, _pack_fds(f"={_len(fds)}i", *fds))])
        finally:
            _sock_close(sock)
        return _len(fds) - 1
    finally:
        for fd in fds:  # the receiver's copies keep the file and the allocations; a failed send frees them
            _os_close(fd)


def signed_text(tag: str, descriptors: int, header: bytes) -> str:
    """What a message's signature covers: the case, how many descriptors came with it, and the
    digest of the file's header (which names every tensor, where it lives, its dtype and shape), so
    a message body seen once could not carry other descriptors or another structure."""
    return f"{tag}:{descriptors}:{sha256_hex(header)}"


def hand_over(share_path: str, file: str, tag: str, sign: Callable[[str], str], value: Any, share: Any = None) -> tuple[str, int]:
    """A checked output to the comparer: sealed and sent to the inbox at `share_path` where there
    is one and it answers, else written to `file`. Returns (the file's digest, -1) or ("", how
    many of its tensors went as device allocations). A send that fails sends nothing (a Unix datagram arrives whole or not at all), so
    the file then is the only copy: the candidate's code can force that way, which is as safe."""
    if share_path:
        try:
            return "", send_output(share_path, tag, sign, value, share)
        except OSError:
            pass
    return write_output(file, value), -1


def candidate_output(case: str, shared: bool, inbox: SharedInbox | None, key: bytes, file: Path, digest: str, device: Any = None) -> Any:
    """A candidate's checked output: from `inbox` (signed by `key`) when its worker handed it over
    sealed, else from `file`, whose digest its log signed. RewrittenFile either way when it is not
    what the checker's writer made."""
    if shared:
        if inbox is None:
            raise RewrittenFile(f"case {case}: the candidate's log says its output was handed over, but this check has no inbox")
        return inbox.take(case, key, device=device)
    return read_output(file, digest)


def _is_sealed_memfd(fd: int) -> str | None:
    """None if `fd` is a memfd with every seal `send_output` sets, else what it is instead."""
    try:
        link = os.readlink(f"/proc/self/fd/{fd}")
        seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
    except OSError:
        return "a descriptor that is not a sealed memory file"
    if not link.startswith("/memfd:"):
        return "a descriptor that is not a memory file"
    if seals & SEALS != SEALS:
        return "a memory file that is not sealed (it could still be written)"
    return None


class SharedInbox:
    """The reference worker's end: a listening socket at `path` and the messages it received."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._server.bind(str(path))
        self._server.listen(64)
        self._server.settimeout(ACCEPT_POLL_S)
        self._lock = threading.Condition()
        self._messages: dict[str, list[tuple[str, list[int]]]] = {}  # tag -> (mac, [sealed file, device allocations...]) as they came
        self._strays: list[str] = []  # why a message was not the checker's
        self._taken: set[str] = set()  # tags read already: another message for one is a stray
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="kw-shared-inbox", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            with conn:
                self._receive(conn)

    def _receive(self, conn: socket.socket) -> None:
        conn.settimeout(RECEIVE_S)
        try:
            body, ancillary, flags, _ = conn.recvmsg(MAX_BODY, socket.CMSG_SPACE(MAX_FDS * 4))
        except OSError as exc:
            return self._stray(f"a message could not be read ({exc.strerror or exc})", [])
        fds = [fd for level, kind, data in ancillary if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS
               for fd in struct.unpack(f"={len(data) // 4}i", data[:len(data) - len(data) % 4])]
        if not body and not fds:
            return None  # a connection closed without a message: nothing to judge
        if flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC) or not 1 <= len(fds) <= 1 + MAX_DEVICE_SHARES:
            return self._stray(f"a message with {len(fds)} descriptor(s) or cut short", fds)
        try:
            tag, count, mac = body.decode("ascii").split(" ")
            if int(count) != len(fds):
                raise ValueError(count)
        except (UnicodeDecodeError, ValueError):
            return self._stray("a message that is not a tag, its descriptors' count and its signature", fds)
        with self._lock:
            if tag in self._taken:  # after its read: nothing but a second sender makes this
                return self._stray(f"a second message for case {tag}", fds)
            self._messages.setdefault(tag, []).append((mac, fds))
            self._lock.notify_all()
        return None

    def _stray(self, why: str, fds: list[int]) -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        with self._lock:
            self._strays.append(why)
            self._lock.notify_all()

    def take(self, tag: str, key: bytes, wait_s: float = WAIT_S, device: Any = None) -> Any:
        """The output sent under `tag`, parsed from its sealed pages (`output_file.parse`). Raises
        RewrittenFile when anything but the checker's writer used the inbox (a stray message, a
        tag sent twice, a bad signature, a descriptor that is not a sealed memfd), or when no
        message for `tag` arrived within WAIT_S (the candidate's process kept it from coming)."""
        deadline = time.monotonic() + wait_s
        with self._lock:
            while tag not in self._messages and not self._strays and time.monotonic() < deadline:
                self._lock.wait(ACCEPT_POLL_S)
            problem = self._problem(tag)
            if problem:
                raise RewrittenFile(problem)
            mac, (fd, *device_fds) = self._messages.pop(tag)[0]
            self._taken.add(tag)
        try:
            try:
                share = None
                if device_fds:  # only a GPU check's reference worker asks its candidate for these
                    from kernelwright.tools.worker import device_share

                    share = device_share.load(device) if device is not None else None
                    if share is None:
                        raise MalformedOutput(f"the output of case {tag} came with tensors on a device this process cannot map")
                size = os.fstat(fd).st_size
                # Private and copy-on-write: torch maps writable buffers only, and a sealed file refuses
                # shared writable mappings; nothing written through this mapping reaches the file.
                view = mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE) if size else bytearray()
                if not valid_share_mac(key, signed_text(tag, 1 + len(device_fds), header_bytes(view)), mac):
                    raise RewrittenFile(f"the output sent as case {tag} is not signed by the checker's writer")
            except BaseException:
                for extra in device_fds:  # not handed to the parser yet: closed here, once
                    os.close(extra)
                raise
            return parse(view, device_fds, share, device)  # owns device_fds from here; the tensors keep the mappings alive
        finally:
            os.close(fd)

    def _problem(self, tag: str) -> str | None:
        if self._strays:
            return f"the candidate's process sent the checker's output inbox {self._strays[0]}"
        got = self._messages.get(tag)
        if not got:
            return f"the output of case {tag} never reached the checker (the candidate's process kept it from being sent)"
        if len(got) > 1:
            return f"the output of case {tag} was sent {len(got)} times: only the checker's writer sends it, once"
        return _is_sealed_memfd(got[0][1][0])  # the signature next, over the sealed file's header

    def close(self) -> None:
        """Stop accepting; close every descriptor still held."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept at once (Linux), so the join is short
        with contextlib.suppress(OSError):
            self._server.close()
        self._thread.join(timeout=2 * ACCEPT_POLL_S)
        with self._lock:
            for got in self._messages.values():
                for _, fds in got:
                    for fd in fds:
                        with contextlib.suppress(OSError):
                            os.close(fd)
            self._messages.clear()
        with contextlib.suppress(OSError):
            self.path.unlink()
