"""`kernelwright config show`: the effective config, each value with the layer that set it."""

from __future__ import annotations

import argparse
import json
import sys

from kernelwright.configs.flags import add_config_flags, flag_overrides
from kernelwright.configs.resolve import load


def add_config_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show the effective config and where each value comes from")
    inner = p.add_subparsers(dest="config_command", metavar="COMMAND", parser_class=type(p))
    show = inner.add_parser(
        "show",
        help="print the effective config: defaults, $KERNELWRIGHT_MODEL, --config FILE, then the flags",
        description="Print every config key with its value and its source (default, env, file or flag), "
        "validated as `run` validates it. Exit 0, or 2 for a bad config.",
    )
    show.add_argument("--config", help="YAML file merged over the defaults")
    add_config_flags(show)
    show.add_argument("--json", action="store_true", help="print one JSON object on stdout: {config, sources}")
    show.set_defaults(func=_cmd_show)
    p.set_defaults(func=lambda args: (p.print_help(sys.stderr), 2)[1])


def _cmd_show(args: argparse.Namespace) -> int:
    resolved = load(args.config, flag_overrides(args))
    if args.json:
        from kernelwright.tools.output import print_json

        print_json({"config": resolved.as_dict(), "sources": resolved.sources})
        return 0
    rows = resolved.rows()
    width = max(len(key) for key, _, _ in rows)
    for key, value, source in rows:
        print(f"{key:<{width}}  {json.dumps(value):<24}  # {source}")
    return 0
