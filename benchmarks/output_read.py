"""What writing a candidate's output and reading it back costs, the checker's way now (its own
format with a BLAKE3 digest: `tools/worker/output_file.py`) against the way before 2026-12-07
(`torch.save` through a writer taking OpenSSL's SHA-256 of each 4 MiB piece on its one thread; the
reader hashing the pieces on up to 8 threads, then `torch.load` from the verified copy). Both read
through `private_copy.load_verified` (a memfd copy, hashed, then parsed).

    python benchmarks/output_read.py --gib 1 --repeats 4 [--dir /dev/shm] [--json out.json]

Interleaved (sha256, blake3, sha256, ...) so machine load falls on both; medians printed and written.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.worker import common, output_file, private_copy

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


def save_sha256(path: Path, values: Any) -> str:
    with open(path, "wb") as f:
        sink = Sha256Writer(f)
        torch.save(values, sink)
    return sink.hexdigest()


def read_sha256(path: Path, signed: str) -> Any:
    return private_copy.load_verified(path, signed, sha256_of_pieces,
                                      lambda buffer: torch.load(io.BytesIO(buffer), weights_only=True, map_location="cpu"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--dir", default=None, help="where the file goes (default: the temp folder)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    values = [torch.randn(int(args.gib * (1 << 30)) // 4)]
    common.save_tensors(Path(tempfile.gettempdir()) / "kw-warm.pt", [torch.ones(1)])  # CRC off, as the checker saved
    ways = {"sha256": (save_sha256, read_sha256), "now": (output_file.write_output, output_file.read_output)}
    times: dict[str, list[float]] = {f"{step}_{way}": [] for way in ways for step in ("save", "read")}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "out.pt"
        for _ in range(args.repeats):
            for way, (write, read) in ways.items():
                began = time.perf_counter()
                signed = write(path, values)
                times[f"save_{way}"].append(time.perf_counter() - began)
                began = time.perf_counter()
                loaded = read(path, signed)
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
