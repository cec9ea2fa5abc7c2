"""How long reading a candidate's output back takes: the signed file's digest checked and its tensors
loaded, the way the checker does it now (`private_copy.load_verified`: a memfd copy, hashed, mapped)
against the earlier way (the bytes read into memory, hashed, unpickled through `io.BytesIO`).

    python benchmarks/output_read.py --gib 1 --repeats 4 [--dir /dev/shm] [--json out.json]

Interleaved (old, new, old, new, ...) so machine load falls on both; medians printed and written.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from kernelwright.tools.worker import common


def old_way(path: Path, sha256: str) -> object:
    data = common.read_regular_file(path)
    if common.chunked_sha256(data, threads=min(8, os.cpu_count() or 1)) != sha256:
        raise SystemExit("digest mismatch")
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--dir", default=None, help="where the file goes (default: the temp folder)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    values = [torch.randn(int(args.gib * (1 << 30)) // 4)]
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "out.pt"
        times: dict[str, list[float]] = {"save_with_digest": [], "read_old": [], "read_new": []}
        for _ in range(args.repeats):
            began = time.perf_counter()
            signed = common.save_tensors(path, values, digest=True)
            times["save_with_digest"].append(time.perf_counter() - began)
            for name, read in (("read_old", old_way), ("read_new", common.load_tensors)):
                began = time.perf_counter()
                loaded = read(path, signed)
                assert torch.equal(loaded[0], values[0])  # also touches every page of the result
                times[name].append(time.perf_counter() - began)
                del loaded
    medians = {name: round(statistics.median(t), 3) for name, t in times.items()}
    record = {"gib": args.gib, "repeats": args.repeats, "dir": args.dir or tempfile.gettempdir(), "cpus": os.cpu_count(),
              "torch": torch.__version__, "medians_s": medians, "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()}}
    print(json.dumps(record))
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
