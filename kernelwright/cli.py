"""The `kernelwright` command line. Exit codes: 0 success, 1 no acceptable result, 2 bad input.

`--json` prints exactly one JSON object on stdout; progress and human output go to stderr.
Subcommands live in `kernelwright.commands.*`-style modules of their own folders; this file only
wires arguments to them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from kernelwright import __version__


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(2, f"kernelwright: error: {message}\n")


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="verify one solution against one problem (strict protocol)",
        description="Run the evaluation protocol on SOLUTION for PROBLEM. Exit 0 accepted, 1 rejected, 2 bad input.",
    )
    p.add_argument("problem", help="KernelBench-format problem file (class Model, get_inputs, get_init_inputs)")
    p.add_argument("solution", help="solution file (class ModelNew)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds each sandboxed step may take (default 300)")
    p.add_argument("--seed", type=int, default=42, help="seed of the first trial; the others are secret (default 42)")
    p.add_argument("--trials", type=int, default=5, help="trials at the shipped sizes (default 5, at least 1)")
    p.add_argument("--mode", choices=["strict", "compat"], default="strict", help="strict (default) or KernelBench-compatible")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16"], help="cast floating inputs and weights (default: as the problem gives them)")
    p.add_argument("--no-variants", action="store_true", help="skip the shape-variant trials")
    p.add_argument("--allow-torch-ops", action="store_true", help="allow aten compute ops in the forward")
    p.add_argument("--no-timing", action="store_true", help="on a GPU, check correctness only")
    p.add_argument("--home", help="kernelwright home (caches of baselines and device peaks)")
    p.add_argument("--keep-workdir", action="store_true", help="keep the sandbox's files (for debugging)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from kernelwright.tools.home import resolve_home
    from kernelwright.tools.verify import CheckOptions, verify_solution

    if args.trials < 1:
        raise UsageError("--trials must be at least 1")
    opts = CheckOptions(
        device=args.device,
        timeout_s=args.timeout,
        seed=args.seed,
        trials=args.trials,
        variants=not args.no_variants,
        mode=args.mode,
        allow_torch_ops=args.allow_torch_ops,
        precision=args.precision,
        timing=not args.no_timing,
        home=resolve_home(args.home),
        keep_workdir=args.keep_workdir,
        progress=lambda msg: print(f"kernelwright: {msg}", file=sys.stderr, flush=True),
    )
    result = verify_solution(args.problem, args.solution, opts)
    if args.json:
        _print_json(result.to_dict())
    else:
        _print_check(result)
    return 0 if result.accepted else 1


def _print_check(result: Any) -> None:
    lines = [f"verdict: {result.verdict}  ({result.device}, {result.mode}, {result.wall_s:.1f}s)"]
    for r in result.reasons:
        lines.append(f"  - [{r.check}] {r.message.splitlines()[0] if r.message else ''}")
    if result.trials:
        ok = sum(t["ok"] for t in result.trials)
        lines.append(f"trials: {ok}/{len(result.trials)} passed; max abs err {result.max_abs_err}; rel err {result.rel_err}")
    if result.weights_aligned is not None:
        lines.append(f"weights aligned with the reference: {result.weights_aligned}")
    if result.timing:
        t = result.timing
        lines.append(f"candidate median {t['candidate']['median_ms']:.4f} ms (noise floor {t.get('noise_floor', 0):.1%})")
    if result.speedup:
        lines.append("speedup: " + ", ".join(f"{k} {v:.2f}x" for k, v in result.speedup.items()))
    if result.resources:
        for r in result.resources:
            lines.append(f"sm_90 {r.get('kernel')}: {r.get('registers')} regs, {r.get('spills')} spills, {r.get('shared_bytes')} B shared")
    print("\n".join(lines), file=sys.stderr)


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kernelwright", description="PyTorch reference in, verified fast GPU kernel out.")
    parser.add_argument("--version", action="version", version=f"kernelwright {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_check(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from kernelwright.tools.problem import InputError

    try:
        return args.func(args)
    except (InputError, UsageError) as exc:
        if args.debug:
            raise
        if getattr(args, "json", False):
            _print_json({"error": str(exc)})
        print(f"kernelwright: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kernelwright: interrupted", file=sys.stderr)
        return 130
