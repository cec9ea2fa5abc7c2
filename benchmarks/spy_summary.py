"""Where a check's processes spend their time, from a py-spy profile of the whole process tree
(`py-spy record --subprocesses --format raw`, see benchmarks/gpu_profile_check.sh): seconds per
process, and per process the kernelwright functions (inclusive) and the leaf functions that took
the most.

    python benchmarks/spy_summary.py PROFILE.txt [--rate 40] [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import re

# py-spy shortens paths to what follows sys.path: our own code starts with one of these folders.
OURS = {"kernelwright", "tools", "agents", "graphs", "bench", "memory"}
FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--rate", type=float, default=40.0, help="samples a second the profile was taken at")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    per_process: collections.Counter[str] = collections.Counter()
    inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    leaves: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in open(args.profile, encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        process_frames = [i for i, f in enumerate(frames) if f.startswith("process ")]
        last = process_frames[-1] if process_frames else -1
        name = frames[last].split(":", 1)[-1].strip('"')[:90] if last >= 0 else "?"
        n = int(count)
        per_process[name] += n
        seen = set()
        for frame in frames[last + 1:]:
            m = FRAME.match(frame)
            if not m:
                continue
            key = f"{m['func']} ({m['file'].split('site-packages/')[-1].split('/main/')[-1]})"
            if m["file"].split("/")[0] in OURS and key not in seen:
                inclusive[name][key] += n
                seen.add(key)
        if len(frames) > last + 1:
            leaf = FRAME.match(frames[-1])
            leaves[name][f"{leaf['func']} ({leaf['file'].split('site-packages/')[-1]})" if leaf else frames[-1]] += n
    for name, n in per_process.most_common():
        print(f"\n== {n / args.rate:7.2f} s  {name}")
        for key, k in inclusive[name].most_common(args.top):
            print(f"   {k / args.rate:7.2f} s  {key}")
        print("   -- leaves")
        for key, k in leaves[name].most_common(8):
            print(f"   {k / args.rate:7.2f} s  {key}")


if __name__ == "__main__":
    main()
