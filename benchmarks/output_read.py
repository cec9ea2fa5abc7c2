"""What the signed digest of a candidate's output costs, writer and reader: BLAKE3 (now,
`tools/worker/output_digest.py`) against SHA-256 taken the way the checker took it before
(OpenSSL's SHA-256 of each 4 MiB piece on the writer's one thread; the reader hashing the pieces
on up to 8 threads). Both read through `private_copy.load_verified` (a memfd copy, hashed, mapped).

    python benchmarks/output_read.py --gib 1 --repeats 4 [--dir /dev/shm] [--json out.json]

Interleaved (sha256, blake3, sha256, ...) so machine load falls on both; medians printed and written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker import common, output_digest, private_copy

PIECE = 4 << 20


class Sha256Writer:
    """The writer before: SHA-256 of every PIECE, then of the pieces' digests."""

    def __init__(self, file: Any) -> None:
        self.file, self.digests, self.piece, self.filled = file, [], hashlib.sha256(), 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        at = 0
        while at < len(view):
            take = min(PIECE - self.filled, len(view) - at)
            self.piece.update(view[at:at + take])
            self.filled, at = self.filled + take, at + take
            if self.filled == PIECE:
                self.digests.append(self.piece.digest())
                self.piece, self.filled = hashlib.sha256(), 0
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()

    def hexdigest(self) -> str:
        return hashlib.sha256(b"".join([*self.digests, *([self.piece.digest()] if self.filled else [])])).hexdigest()


def sha256_of_pieces(data: Any) -> str:
    view = memoryview(data).cast("B")
    pieces = [view[i:i + PIECE] for i in range(0, len(view), PIECE)]
    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(lambda piece: hashlib.sha256(piece).digest(), pieces))
    return hashlib.sha256(b"".join(digests)).hexdigest()


def save(path: Path, values: Any, writer: type) -> str:
    with open(path, "wb") as f:
        sink = writer(f)
        torch.save(values, sink)
    return sink.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--dir", default=None, help="where the file goes (default: the temp folder)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    values = [torch.randn(int(args.gib * (1 << 30)) // 4)]
    common.save_tensors(Path(tempfile.gettempdir()) / "kw-warm.pt", [torch.ones(1)], digest=True)  # CRC off, as the checker saves
    ways = {"sha256": (Sha256Writer, sha256_of_pieces), "blake3": (output_digest.HashingWriter, output_digest.output_digest)}
    times: dict[str, list[float]] = {f"{step}_{way}": [] for way in ways for step in ("save", "read")}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "out.pt"
        for _ in range(args.repeats):
            for way, (writer, digest) in ways.items():
                began = time.perf_counter()
                signed = save(path, values, writer)
                times[f"save_{way}"].append(time.perf_counter() - began)
                began = time.perf_counter()
                loaded = private_copy.load_verified(path, signed, digest)
                assert torch.equal(loaded[0], values[0])  # also touches every page of the result
                times[f"read_{way}"].append(time.perf_counter() - began)
                del loaded
    medians = {name: round(statistics.median(t), 3) for name, t in times.items()}
    record = {"gib": args.gib, "repeats": args.repeats, "dir": args.dir or tempfile.gettempdir(), "cpus": os.cpu_count(),
              "torch": torch.__version__, "medians_s": medians, "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()}}
    print(json.dumps(record))
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
