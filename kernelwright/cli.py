"""The `kernelwright` command line. Exit codes: 0 success, 1 no acceptable result, 2 bad input.

`--json` prints exactly one JSON object on stdout; progress and human output go to stderr.
Each folder owns its subcommands (`kernelwright.tools.check.cli`: check; `kernelwright.graphs.cli`: run,
roles, graph); this file builds the parser, maps errors to exit codes and prints JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kernelwright import __version__
from kernelwright.tools.output import print_json


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(2, f"kernelwright: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kernelwright", description="PyTorch reference in, verified fast GPU kernel out.")
    parser.add_argument("--version", action="version", version=f"kernelwright {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from kernelwright.bench.cli import add_bench_parser
    from kernelwright.graphs.cli import add_graph_parsers
    from kernelwright.graphs.traces.cli import add_traces_parser
    from kernelwright.memory.cli import add_memory_parser
    from kernelwright.tools.check.cli import add_check_parser
    from kernelwright.tools.doctor import add_doctor_parser

    add_check_parser(sub)
    add_graph_parsers(sub)
    add_memory_parser(sub)
    add_traces_parser(sub)
    add_bench_parser(sub)
    add_doctor_parser(sub)
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
    except InputError as exc:
        if args.debug:
            raise
        if getattr(args, "json", False):
            print_json({"error": str(exc)})
        print(f"kernelwright: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kernelwright: interrupted", file=sys.stderr)
        return 130
