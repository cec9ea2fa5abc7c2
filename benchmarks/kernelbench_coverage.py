"""Offline coverage of the expert policy on a KernelBench checkout: which problems its tracer and
lowering accept (a solution is generated at the file's full sizes, on meta tensors: nothing is
computed), and for the rest the first unsupported operation. No GPU, no check: what a GPU bench
then accepts and how fast is measured separately (see the printed command).

Usage: python benchmarks/kernelbench_coverage.py KERNELBENCH_DIR [--levels 1 2] [--json OUT] [--verbose]
       [--copy-accepted DIR]
(KERNELBENCH_DIR is a checkout's root or its KernelBench/ folder.) --copy-accepted copies the
accepted problems into DIR/level1, DIR/level2, ... (outside the repository, or an ignored folder
such as .device/) for a GPU bench of exactly those:
    kernelwright bench DIR/level1 --id kb-l1 --policy expert --max-iters 1 --device cuda --json
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import re
import shutil
import signal
import sys
from pathlib import Path

from kernelwright.agents.expert.ir import UnsupportedProblem
from kernelwright.agents.expert.solution import compile_problem


@dataclasses.dataclass
class Outcome:
    level: int
    problem: str
    accepted: bool
    family: str = ""
    reason: str = ""


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


def level_dir(root: Path, level: int) -> Path:
    for candidate in (root / f"level{level}", root / "KernelBench" / f"level{level}"):
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"{root}: no level{level} folder (give a KernelBench checkout or its KernelBench/ folder)")


def _number(path: Path) -> int:
    m = re.match(r"(\d+)_", path.name)
    return int(m.group(1)) if m else 10**6


def one(level: int, path: Path, timeout_s: int) -> Outcome:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        _, t = compile_problem(path, device="cuda")
        return Outcome(level, path.stem, True, t.family)
    except UnsupportedProblem as exc:
        return Outcome(level, path.stem, False, reason=str(exc).removeprefix("expert policy: "))
    except _Timeout:
        return Outcome(level, path.stem, False, reason=f"tracing took over {timeout_s} s")
    except Exception as exc:  # noqa: BLE001 - an internal error is a coverage gap to report, not a crash
        return Outcome(level, path.stem, False, reason=f"internal error: {type(exc).__name__}: {exc}"[:300])
    finally:
        signal.alarm(0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kernelbench", type=Path)
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", type=Path, help="write every outcome here")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per problem")
    ap.add_argument("--verbose", action="store_true", help="print every problem, not only the summary")
    ap.add_argument("--copy-accepted", type=Path, metavar="DIR", help="copy the accepted problems into DIR/levelN")
    args = ap.parse_args(argv)
    outcomes: list[Outcome] = []
    for level in args.levels:
        for path in sorted(level_dir(args.kernelbench, level).glob("*.py"), key=_number):
            o = one(level, path, args.timeout)
            outcomes.append(o)
            if o.accepted and args.copy_accepted:
                (args.copy_accepted / f"level{level}").mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, args.copy_accepted / f"level{level}" / path.name)
            if args.verbose:
                print(f"L{level} {o.problem:70s} {o.family if o.accepted else 'NO: ' + o.reason[:160]}", flush=True)
    for level in args.levels:
        mine = [o for o in outcomes if o.level == level]
        ok = [o for o in mine if o.accepted]
        fams = collections.Counter(o.family for o in ok)
        print(f"level {level}: {len(ok)} of {len(mine)} traced and lowered ({', '.join(f'{k} {v}' for k, v in fams.most_common())})")
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
