"""The `kernelwright` command line. Exit codes: 0 success, 1 no acceptable result, 2 bad input.

`--json` prints exactly one JSON object on stdout; progress and human output go to stderr.
Each folder owns its subcommands (`kernelwright.tools.check.cli`: check; `kernelwright.graphs.cli`: run,
roles, graph); this file builds the parser, maps errors to exit codes and prints JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kernelwright import __version__
from kernelwright.tools.output import print_json

# One example per command, shown under its --help (tests/test_cli_help.py checks every command has one).
EXAMPLES: dict[str, str] = {
    "check": "kernelwright check examples/problems/gelu_scale.py examples/solutions/gelu_scale.py --device cpu",
    "profile": "kernelwright profile examples/problems/gelu_scale.py examples/solutions/gelu_scale.py --tier 3",
    "run": "kernelwright run examples/problems/gelu_scale.py --policy expert --approve plan",
    "resume": "kernelwright resume gelu_scale-20261201-120000-ab12 --answer approve",
    "roles": "kernelwright roles --config my.yaml --policy llm",
    "graph": "kernelwright graph --config my.yaml --mermaid",
    "memory": "kernelwright memory search 'softmax block size'",
    "memory list": "kernelwright memory list --json",
    "memory search": "kernelwright memory search 'tl.sum rows'",
    "memory show": "kernelwright memory show seed-elementwise-block-size",
    "memory add": "kernelwright memory add --title 'Rows under 1024: 4 per program' --body 'sm_90 fp32: 1.4x'",
    "memory forget": "kernelwright memory forget seed-elementwise-block-size",
    "memory export": "kernelwright memory export --out lessons.jsonl",
    "memory import": "kernelwright memory import lessons.jsonl",
    "traces": "kernelwright traces list",
    "traces list": "kernelwright traces list --json",
    "traces show": "kernelwright traces show gelu_scale-20261201-120000-ab12",
    "traces diff": "kernelwright traces diff RUN_A RUN_B",
    "traces export": "kernelwright traces export gelu_scale-20261201-120000-ab12 --html run.html",
    "traces serve": "kernelwright traces serve --port 8765   # then open http://127.0.0.1:8765/",
    "bench": "kernelwright bench examples/problems --policy expert --filter 'gelu*' --out report/",
    "doctor": "kernelwright doctor --json",
    "audit": "kernelwright audit KernelBench/runs/my_run --kernelbench KernelBench --device cuda",
    "config": "kernelwright config show --config my.yaml --max-iters 5",
    "config show": "kernelwright config show --config my.yaml --json",
}


def finish_help(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """Give every command its one-line help as the description (where it has none) and an example."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            key = " ".join((*path, name))
            if not sub.description and helps.get(name):
                sub.description = helps[name][0].upper() + helps[name][1:] + "."
            if key in EXAMPLES:
                sub.epilog = f"example:\n  {EXAMPLES[key]}"
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
            finish_help(sub, (*path, name))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its one-line style
        self.print_usage(sys.stderr)
        self.exit(2, f"kernelwright: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kernelwright", description="PyTorch reference in, verified fast GPU kernel out.")
    parser.add_argument("--version", action="version", version=f"kernelwright {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    from kernelwright.bench.audit_cli import add_audit_parser
    from kernelwright.bench.cli import add_bench_parser
    from kernelwright.configs.cli import add_config_parser
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
    add_audit_parser(sub)
    add_doctor_parser(sub)
    add_config_parser(sub)
    finish_help(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from kernelwright.tools.problem import CheckerFailure, InputError

    try:
        return args.func(args)
    except CheckerFailure as exc:
        if args.debug:
            raise
        if getattr(args, "json", False):
            print_json({"error": str(exc), "kind": "checker_failure"})
        print(f"kernelwright: checker failure (not a verdict): {exc}", file=sys.stderr)
        return 1
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


def entry() -> None:
    """The `kernelwright` command (and `python -m kernelwright`): `main`, then the exit."""
    code = main()
    if code == 130:
        # Stopped (Ctrl-C, SIGTERM): what was finished is already written and reported. Worker threads
        # may still be inside torch's C++ code; the interpreter's shutdown ends such daemon threads by
        # unwinding them, which aborts the process (SIGABRT, "terminate called without an active
        # exception") instead of exiting 130. So the process ends here, without that shutdown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
