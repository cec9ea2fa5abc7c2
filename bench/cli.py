"""`kernelwright bench DIR`: a full `run` of every problem in DIR, in parallel, resumable; the
per-problem results and the fast_p summary as JSON (stdout with --json, and results.json),
Markdown (results.md), a chart (speedups.svg/.png) and an HTML report (results.html) in HOME/bench/BENCH_ID/."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kernelwright.tools.home import resolve_home

if TYPE_CHECKING:
    from kernelwright.bench.ray_cluster import RayCluster
    from kernelwright.bench.runner import BenchRequest


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run every problem of a folder; fast_p table, JSON, Markdown, an SVG/PNG chart and HTML",
        description="A full run of each problem in DIR (one worker process each; one per GPU, or --jobs on the CPU), "
        "resumable with --resume. Exit 0 if some problem got an accepted solution, 1 if none, 2 for bad input, "
        "130 if stopped (the finished problems are kept).",
    )
    p.add_argument("dir", nargs="?", help="folder of KernelBench-format problem files (optional with --resume)")
    p.add_argument("--policy", choices=["llm", "expert"], help="default: llm when a model is configured, else expert")
    p.add_argument("--model", help="LLM name (also KERNELWRIGHT_MODEL or the config's model)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--device", default="auto", help="auto (default: every visible GPU, else the CPU), cpu, cuda or cuda:N")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local (default): worker processes on this machine; ray: one Ray actor per GPU "
                   "(or CPU job) of a Ray cluster, needs the ray extra: pip install 'kernelwright[ray]'")
    p.add_argument("--address", help="with --executor ray: the cluster to join, auto or ray://HOST:10001 "
                   "(default: start Ray on this machine)")
    p.add_argument("--jobs", type=int, help="parallel runs: CPU jobs (default half the cores, at most 4); on GPUs at most one per GPU")
    p.add_argument("--max-iters", type=int, help="plan -> code rounds per problem (default 3)")
    p.add_argument("--candidates", type=int, help="candidates per round (default 1)")
    p.add_argument("--config", help="YAML file merged over configs/default.yaml (roles, budgets, check options)")
    p.add_argument("--kernelbench", metavar="PATH", help="a KernelBench checkout: bench its --level N problems, unchanged, "
                   "and export a KernelBench-style run folder (kernelbench/ in the bench folder)")
    p.add_argument("--level", type=int, help="with --kernelbench: the level (1, 2, 3)")
    p.add_argument("--problems", metavar="IDS", help="with --kernelbench: problem numbers, e.g. 1-20,23 (default: all)")
    p.add_argument("--filter", action="append", default=[], metavar="GLOB",
                   help="only problems whose name matches (repeat, or comma-separate)")
    p.add_argument("--limit", type=int, help="only the first N problems (after --filter)")
    p.add_argument("--id", dest="bench_id", help="name of a new bench (default bench-DATE-TIME-XXXX)")
    p.add_argument("--resume", metavar="BENCH_ID", help="continue a bench: run only its unfinished problems")
    p.add_argument("--out", help="also copy results.json, results.md, speedups.svg/.png and results.html to this folder")
    p.add_argument("--home", help="kernelwright home (default $KERNELWRIGHT_HOME or ~/.kernelwright)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from kernelwright.bench.runner import BenchInterrupted, BenchRequest, run_bench
    from kernelwright.configs.flags import flag_overrides
    from kernelwright.tools.output import print_json
    from kernelwright.tools.problem import InputError

    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1")
    folder, filters, level = args.dir, list(args.filter), None
    if args.kernelbench or args.level is not None or args.problems:
        folder, filters, level = _kernelbench_selection(args)
    overrides = flag_overrides(argparse.Namespace(**{**vars(args), "device": None}))  # the device is each worker's slot
    req = BenchRequest(folder=folder, home=resolve_home(args.home), config_path=args.config, overrides=overrides,
                       device=args.device, jobs=args.jobs, filters=filters, kernelbench_level=level, limit=args.limit,
                       bench_id=args.bench_id, resume=args.resume, out=args.out)
    cluster = _ray_cluster(args, req)
    try:
        report = run_bench(req)
    except BenchInterrupted as stopped:
        if args.json:
            print_json(stopped.report.model_dump(mode="json"))
        raise
    finally:
        if cluster is not None:
            cluster.close()
    if args.json:
        print_json(report.model_dump(mode="json"))
    else:
        s = report.summary
        print(f"bench {report.bench_id}: {s.accepted}/{s.problems} accepted; "
              + ", ".join(f"fast_1 vs {b} {v['1']:.3f}" if v["1"] is not None else f"fast_1 vs {b} n/a (not timed)"
                          for b, v in s.fast_p.items())
              + f"\nreport: {report.files['markdown']}\nchart: {report.files['png']}", file=sys.stderr)
    return 0 if report.summary.accepted else 1


def _kernelbench_selection(args: argparse.Namespace) -> tuple[str, list[str], int]:
    """(level folder, name globs, level) for --kernelbench PATH --level N [--problems IDS]."""
    from kernelwright.bench.kernelbench import filters_for, level_folder, parse_ids
    from kernelwright.tools.problem import InputError

    if not args.kernelbench or args.level is None:
        raise InputError("--kernelbench PATH and --level N go together (--problems is optional)")
    if args.dir:
        raise InputError(f"give either DIR ({args.dir}) or --kernelbench PATH --level N, not both")
    folder = level_folder(args.kernelbench, args.level)
    filters = list(args.filter) + (filters_for(parse_ids(args.problems)) if args.problems else [])
    return str(folder), filters, args.level


def _ray_cluster(args: argparse.Namespace, req: BenchRequest) -> RayCluster | None:
    """With --executor ray: plug the cluster's slots and actors into the bench request."""
    from kernelwright.tools.problem import InputError

    if args.executor != "ray":
        if args.address:
            raise InputError("--address is for --executor ray: add --executor ray, or drop --address")
        return None
    from kernelwright.bench.ray_cluster import RayCluster

    cluster = RayCluster(args.address)
    req.plan, req.make_executor = cluster.plan, cluster.executor
    return cluster
