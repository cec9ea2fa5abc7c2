"""The digest of a file a worker wrote while candidate code shared its process (BLAKE3).

The candidate's worker takes it on its one thread while it writes the output
(`output_file.write_output`), signs it in its event log, and the reader (the parent or the reference worker) takes it again over its private
copy of the file before any byte is unpickled (`private_copy.load_verified`). Code in the
candidate's process writes both the output and any later rewrite, so the hash must resist
collisions the writer chooses: a cryptographic hash, not a checksum.

Why BLAKE3 (the `blake3` package, the BLAKE3 team's Rust binding) rather than SHA-256: on this
2-core machine SHA-256 (OpenSSL, SHA-NI) hashes 1.09 GiB/s on one thread, BLAKE3 5.1 GiB/s on one
thread and 9.6 GiB/s on both cores; at KernelBench's full sizes a trial's output is 6.4 GB, so
about 6 s of each trial on the candidate's thread become about 1.2 s
(`benchmarks/output_read.py`). The reader hashes with BLAKE3's own threads (a tree hash: no
chunking of ours), which are native threads of a trusted process.

The writer's side runs among the candidate's code, so nothing here may be looked up at call time
through something the candidate could replace. `blake3.blake3` is a mutable class (its methods and
`__new__` can be reassigned), so the unbound C methods are captured at import, before the
candidate is imported, and every hasher is a copy of one made then (`copy` allocates in C, without
the class's `__new__`). The writer's hasher stays single-threaded: a thread pool in the candidate's
process would be one its code could reach and one the threads guard would see start.
"""

from __future__ import annotations

from typing import Any

import blake3

_Blake3 = blake3.blake3
_copy = _Blake3.copy
_update = _Blake3.update
_hexdigest = _Blake3.hexdigest
_PRISTINE = _Blake3()  # made at import: later hashers are C copies of it
_AUTO = _Blake3.AUTO


def new_hasher() -> Any:
    """A fresh single-threaded hasher (a C copy of the one made at import)."""
    return _copy(_PRISTINE)


def update_hasher(hasher: Any, data: Any) -> None:
    _update(hasher, data)


def hexdigest(hasher: Any) -> str:
    return _hexdigest(hasher)


def output_digest(data: bytes | memoryview, threads: bool = True) -> str:
    """The digest the writer's hasher got for the same bytes; on BLAKE3's threads unless `threads` is
    False (a process the candidate shares must not start a pool)."""
    hasher = _Blake3(max_threads=_AUTO) if threads else _copy(_PRISTINE)
    _update(hasher, memoryview(data).cast("B"))
    return _hexdigest(hasher)
