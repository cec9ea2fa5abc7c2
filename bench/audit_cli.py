"""`kernelwright audit RUN_FOLDER --kernelbench PATH`: exit 0 when every claim checked holds, 1 when
some claim is refuted, 2 for bad input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kernelwright.tools.home import resolve_home


def add_audit_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit",
        help="re-judge a KernelBench run folder's kernels with the strict check; which claims hold",
        description="Check every level_L_problem_P_sample_S_kernel.py of a KernelBench run folder against its problem "
        "(from a KernelBench checkout) with kernelwright's strict check, and compare with the folder's eval_results.json "
        "claims: correct (held/refuted) and, on a GPU, faster than eager. Exit 0 if no claim is refuted, 1 if one is, 2 for bad input.",
    )
    p.add_argument("run_folder", help="a KernelBench run folder (runs/NAME: kernel files and eval_results.json)")
    p.add_argument("--kernelbench", required=True, metavar="PATH", help="the KernelBench checkout whose problems the kernels solve")
    p.add_argument("--problems", metavar="IDS", help="only these problem numbers, e.g. 1-20,23")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N; speed claims are checked on a GPU only")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds each sandboxed step may take (default 300)")
    p.add_argument("--home", help="kernelwright home (caches of baselines and device peaks)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_audit)


def _cmd_audit(args: argparse.Namespace) -> int:
    from kernelwright.bench.audit import AuditRequest, print_audit, run_audit
    from kernelwright.bench.kernelbench import parse_ids
    from kernelwright.tools.output import print_json

    req = AuditRequest(run_folder=Path(args.run_folder), kernelbench=Path(args.kernelbench), device=args.device,
                       problems=tuple(parse_ids(args.problems)) if args.problems else (), home=resolve_home(args.home),
                       timeout_s=args.timeout, progress=lambda m: print(f"kernelwright: {m}", file=sys.stderr, flush=True))
    report = run_audit(req)
    if args.json:
        print_json(report.to_dict())
    else:
        print_audit(report)
    return 1 if report.refuted else 0
