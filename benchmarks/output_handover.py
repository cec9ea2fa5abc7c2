"""What handing a checked output to the comparer costs on the host: the signed file (its own format,
BLAKE3 while written, read through a private memfd copy hashed again: `output_file`) against the
sealed memory file sent over the inbox's socket (`output_share`: no digest, no disk, the pages
the writer wrote mapped by the reader).

    python benchmarks/output_handover.py --gib 1 --repeats 4 [--dir /dev/shm] [--json out.json]

Interleaved (file, sealed, file, ...) so machine load falls on both; medians printed and written.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from kernelwright.tools.worker.output_file import read_output, write_output
from kernelwright.tools.worker.output_share import SharedInbox, send_output
from kernelwright.tools.worker.signed import share_mac

KEY = bytes(range(32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--dir", default=None, help="where the file goes (default: the temp folder)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    out = torch.randn(int(args.gib * 2**30) // 4)
    times: dict[str, list[float]] = {"file_write": [], "file_read": [], "sealed_send": [], "sealed_take": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        inbox = SharedInbox(Path(tempfile.mkdtemp(prefix="kw-inbox-")) / "o.sock")
        try:
            for i in range(args.repeats):
                path = Path(tmp) / "out.pt"
                began = time.perf_counter()
                digest = write_output(path, out)
                times["file_write"].append(time.perf_counter() - began)
                began = time.perf_counter()
                back = read_output(path, digest)
                times["file_read"].append(time.perf_counter() - began)
                assert torch.equal(back, out)
                del back
                path.unlink()
                began = time.perf_counter()
                send_output(str(inbox.path), f"case-{i}", lambda text: share_mac(KEY, text), out)
                times["sealed_send"].append(time.perf_counter() - began)
                began = time.perf_counter()
                back = inbox.take(f"case-{i}", KEY)
                times["sealed_take"].append(time.perf_counter() - began)
                assert torch.equal(back, out)
                del back
        finally:
            inbox.close()
    medians = {k: round(statistics.median(v), 3) for k, v in times.items()}
    report = {"gib": args.gib, "repeats": args.repeats, "dir": args.dir or tempfile.gettempdir(), "median_s": medians,
              "all_s": {k: [round(x, 3) for x in v] for k, v in times.items()}, "torch": torch.__version__}
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
