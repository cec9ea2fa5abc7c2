"""Signed messages between the checker and its workers, and small file helpers; no torch here
(the parent imports this before torch).

- `EventLog`: the worker's append-only JSON-lines progress, each line numbered and signed with
  an HMAC under a key the parent sent through stdin, so lines forged, reordered or replayed by
  code in the worker's process are detected by the parent (`read_event_bodies`).
- `command_line` / `Commands`: the parent's commands to a worker that stays up for several steps,
  signed the same way under a different domain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

# Captured before any candidate code is imported: a candidate that patches the json module
# afterwards does not change how the worker records or reads commands.
_dumps = json.dumps
_loads = json.loads
# The event bodies are serialised by _json's C encoder, made here: json.dumps looks the module's
# JSONEncoder class up at every call, and red team pass 14 replaced its `encode` (a Python class
# is mutable) to rewrite every event before it was signed.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode_string = json.encoder.encode_basestring_ascii
_join, _str = str.join, str


def _event_json(obj: Any, sort_keys: bool) -> str:
    """JSON text of the worker's event records (dicts, lists, str, int, float, bool, None; any other
    object as its str) without a Python function looked up at call time."""
    if _c_make_encoder is None:  # a Python without _json: the module's own (the static scan keeps json unpatched)
        return _dumps(obj, default=str, sort_keys=sort_keys)
    encode = _c_make_encoder(None, _str, _encode_string, None, ": ", ", ", sort_keys, False, True)
    return _join("", encode(obj, 0))
KEY_BYTES = 32
MAX_LOG_BYTES = 256 << 20  # an output's description is capped (`output_capture`): a worker's log stays far below


def _python_hmac(key: bytes, msg: bytes, digest: str) -> bytes:
    return hmac.new(key, msg, digest).digest()


# The MAC is computed by OpenSSL's C function, captured here: the key must never pass through
# Python code that reads module globals at call time (`hmac.new`, `hmac.HMAC`), because code in
# the worker's process can replace those and so learn the key. Without OpenSSL, hmac's Python
# code is the fallback (the static scan then is what keeps `hmac` unpatched).
try:
    from _hashlib import hmac_digest as _hmac_digest
except ImportError:  # pragma: no cover - every CPython built with OpenSSL has it
    _hmac_digest = _python_hmac
_compare_digest = hmac.compare_digest  # a C function
_sha256 = hashlib.sha256  # OpenSSL's constructor (a C function)


def sha256_hex(data: bytes) -> str:
    """SHA-256 of bytes a worker wrote (signed in its event log, checked by the parent)."""
    return _sha256(data).hexdigest()


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write-then-rename, so a parent polling for the file never reads half of it."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_dumps(obj, default=str))
    tmp.replace(path)


def _sign(key: bytes, seq: int, body: str) -> str:
    return _hmac_digest(key, f"{seq}:{body}".encode(), "sha256").hex()


def share_mac(key: bytes, tag: str) -> str:
    """The signature of an output handed over under `tag` (`output_share`; domain "share:", so it
    can pass neither for an event line nor for a command)."""
    return _sign(key, 0, "share:" + tag)


def valid_share_mac(key: bytes, tag: str, mac: str) -> bool:
    return _compare_digest(mac, share_mac(key, tag))


class EventLog:
    """Append-only JSON-lines progress: a crash mid-way still leaves what was done.

    Each line carries a sequence number and an HMAC under a key the parent sent through stdin,
    so lines that code in this process forges, reorders or replays are detected by the parent."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self.path.write_text("")
        self._key = key
        self._seq = 0

    def write(self, **event: Any) -> None:
        body = _event_json(event, sort_keys=True)
        line = _event_json({"seq": self._seq, "body": body, "mac": _sign(self._key, self._seq, body)}, sort_keys=False)
        self._seq += 1
        with self.path.open("a") as fh:
            fh.write(line + "\n")
            fh.flush()

    def share_mac(self, tag: str) -> str:
        """The signature of an output this worker hands over under `tag` (`output_share`)."""
        return share_mac(self._key, tag)


class TamperedLog(Exception):
    """The event log holds a line that the worker did not write (or a command the parent did not send)."""


def command_line(key: bytes, seq: int, body: str) -> bytes:
    """One parent-to-worker command (`body`, its JSON text: see `requests`) with its sequence
    number and an HMAC (domain "cmd:", so an event line can never pass for a command)."""
    return (_dumps({"seq": seq, "body": body, "mac": _sign(key, seq, "cmd:" + body)}) + "\n").encode()


class Commands:
    """The worker's end of the parent's stdin: the key first, then signed JSON commands.

    Only the parent holds the pipe's write end; the signature is there for a process that might
    reach the pipe some other way (another check's candidate): a command it forges or replays
    stops the worker instead of being obeyed."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.key = stream.read(KEY_BYTES)
        self.seq = 0

    @property
    def closed(self) -> bool:
        return len(self.key) != KEY_BYTES

    def next(self) -> str | None:
        """The next command's JSON text (`requests` reads it), or None when the parent closed the
        pipe (nothing more to do)."""
        line = self.stream.readline()
        if not line.strip():
            return None
        record = _loads(line)
        body, seq, mac = record["body"], record["seq"], record["mac"]
        if seq != self.seq or not _compare_digest(str(mac), _sign(self.key, seq, "cmd:" + body)):
            raise TamperedLog(f"command {self.seq} was not sent by the checker")
        self.seq += 1
        return str(body)


def read_event_bodies(path: Path, key: bytes) -> list[str]:
    """The verified events' bodies (JSON text) in order; `events.parse_events` reads them into
    records. A torn final line (a killed child) is dropped; any other bad, unsigned, reordered or
    replayed line raises TamperedLog."""
    if not path.exists():
        return []
    if path.stat().st_size > MAX_LOG_BYTES:  # read whole below: a log grown by other writers is refused first
        raise TamperedLog(f"the event log is {path.stat().st_size} bytes, more than a worker writes ({MAX_LOG_BYTES})")
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:  # the worker writes JSON text only: other bytes were put there
        raise TamperedLog(f"the event log holds bytes that are not text (at byte {exc.start})") from None
    events = []
    for n, line in enumerate(lines):
        try:
            record = json.loads(line)
            body, seq, mac = record["body"], record["seq"], record["mac"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            if n == len(lines) - 1:
                break  # torn last line
            raise TamperedLog(f"line {n + 1} is not a worker event") from exc
        if seq != len(events) or not _compare_digest(str(mac), _sign(key, seq, body)):
            raise TamperedLog(f"line {n + 1} was not written by the worker (bad signature or order)")
        events.append(str(body))
    return events
