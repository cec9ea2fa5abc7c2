"""`kernelwright run`, `roles` and `graph`. Heavy imports (LangGraph, LangChain) stay inside the
handlers so that `kernelwright check` starts fast and runs where they are not installed."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kernelwright.configs.flags import add_config_flags, flag_overrides
from kernelwright.tools.home import resolve_home

if TYPE_CHECKING:
    from kernelwright.agents.records import ApprovalRequest


def add_graph_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the agent graph on a problem; writes OUT/solution.py and OUT/report.json",
        description="Plan, code, check, debug, profile and analyze until a budget or the target is reached. "
        "Exit 0 if a solution was accepted, 1 if none, 2 for bad input.",
    )
    p.add_argument("problem", nargs="?", help="KernelBench-format problem file (not with --resume, --fork or --replay)")
    add_config_flags(p)
    p.add_argument("--config", help="YAML file merged over configs/default.yaml (roles, budgets, ...)")
    p.add_argument("--out", help="output folder (default HOME/runs/RUN_ID)")
    p.add_argument("--home", help="kernelwright home (default $KERNELWRIGHT_HOME or ~/.kernelwright)")
    p.add_argument("--resume", metavar="RUN_ID", help="continue a run that was interrupted")
    p.add_argument("--fork", metavar="RUN_ID", help="start a new run from the state after step N of RUN_ID (with --from-step N); "
                   "--config, --model and the other flags change what follows")
    p.add_argument("--from-step", type=int, metavar="N", help="the step to fork after (as `kernelwright traces show RUN_ID` numbers them)")
    p.add_argument("--replay", metavar="RUN_ID", help="run RUN_ID again with its recorded LLM answers (no endpoint, no network)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_run)

    res = sub.add_parser(
        "resume",
        help="go on with a paused or interrupted run (answering an approval it waits for)",
        description="Continue RUN_ID from its last checkpoint. A run paused by --approve waits for an answer: "
        "approve, reject [REASON] or edit: NEW TEXT (given with --answer or --answer-file, or asked on a terminal). "
        "Exit 0 if a solution was accepted, 1 if none (or paused again), 2 for bad input.",
    )
    res.add_argument("run_id", help="the run (see `kernelwright traces list`)")
    res.add_argument("--answer", help="approve | reject [REASON] | edit: NEW TEXT")
    res.add_argument("--answer-file", metavar="FILE", help="the answer read from FILE (e.g. 'edit: ' and a rewritten plan)")
    res.add_argument("--home", help="kernelwright home (default $KERNELWRIGHT_HOME or ~/.kernelwright)")
    res.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    res.set_defaults(func=_cmd_resume)

    r = sub.add_parser("roles", help="list the roles a config plugs in, with their sources")
    r.add_argument("--config", help="YAML config file")
    r.add_argument("--policy", choices=["llm", "expert"], default="llm")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_cmd_roles)

    g = sub.add_parser("graph", help="draw the graph that a config produces")
    g.add_argument("--config", help="YAML config file")
    g.add_argument("--policy", choices=["llm", "expert"], default="llm")
    g.add_argument("--mermaid", action="store_true", help="Mermaid flowchart (the default output)")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=_cmd_graph)


def _progress(msg: str) -> None:
    print(f"kernelwright: {msg}", file=sys.stderr, flush=True)


def prompt_person(request: ApprovalRequest) -> str:
    """Show an approval request on the terminal and read the answer (asked again until it parses)."""
    from kernelwright.graphs.approval import Approval, format_request
    from kernelwright.tools.problem import InputError

    print(format_request(request), file=sys.stderr, flush=True)
    while True:
        print("> ", end="", file=sys.stderr, flush=True)  # the prompt on the terminal, not on stdout (may be piped)
        try:
            answer = input()
        except EOFError:
            answer = "reject end of input"
        try:
            Approval.parse(answer)
            return answer
        except InputError as exc:
            print(f"kernelwright: {exc}", file=sys.stderr, flush=True)


def _interactive(args: argparse.Namespace) -> bool:
    """A person at a terminal answers approvals as they come; scripts and --json get a pause."""
    return not args.json and sys.stdin.isatty() and sys.stderr.isatty()


def _cmd_run(args: argparse.Namespace) -> int:
    if not (args.resume or args.fork or args.replay):  # refuse bad input before the heavy imports below
        from kernelwright.graphs.preflight import check_new_run

        check_new_run(resolve_home(args.home), args.config, flag_overrides(args), args.problem)
    from kernelwright.graphs.runner import RunRequest, execute

    summary = execute(
        RunRequest(
            problem=args.problem,
            home=resolve_home(args.home),
            config_path=args.config,
            overrides=flag_overrides(args),
            out=args.out,
            resume=args.resume,
            fork=args.fork,
            from_step=args.from_step,
            replay=args.replay,
            progress=_progress,
            ask=prompt_person if _interactive(args) else None,
        )
    )
    return _report(args, summary)


def _cmd_resume(args: argparse.Namespace) -> int:
    from kernelwright.graphs.runner import RunRequest, execute
    from kernelwright.tools.problem import InputError

    answer = args.answer
    if args.answer_file:
        if answer is not None:
            raise InputError("--answer and --answer-file exclude each other: give one")
        path = Path(args.answer_file)
        if not path.is_file():
            raise InputError(f"--answer-file {path}: no such file")
        answer = path.read_text()
    summary = execute(RunRequest(problem=None, home=resolve_home(args.home), resume=args.run_id, answer=answer,
                                 progress=_progress, ask=prompt_person if _interactive(args) else None))
    return _report(args, summary)


def _report(args: argparse.Namespace, summary) -> int:
    from kernelwright.tools.output import print_json

    if args.json:
        print_json(summary.model_dump(mode="json"))
    else:
        lines = [f"run {summary.run_id}: {summary.status}" + (f" ({summary.stop_reason})" if summary.stop_reason else "")]
        if summary.forked_from:
            lines.append(f"forked from {summary.forked_from.run_id} after step {summary.forked_from.step}")
        if summary.replay:
            lines.append(f"replay of {summary.replay.of}: {summary.replay.answers_served} of {summary.replay.answers_recorded} recorded answers served")
        if summary.error:
            lines.append(f"error: {summary.error}")
        if summary.awaiting:
            from kernelwright.graphs.approval import ANSWER_HELP, format_request

            lines.append(format_request(summary.awaiting))
            lines.append(f"paused: kernelwright resume {summary.run_id} --answer '{ANSWER_HELP}'")
        lines.append(f"solution: {summary.solution_path or 'none accepted'}")
        cost = summary.usage.cost_usd
        report = Path(summary.run_dir) / "report.json"  # a paused run has none yet
        lines.append(f"report: {report if report.exists() else 'none until the run ends'}; tokens: {summary.usage.total_tokens}"
                     + (f"; cost: ${cost:.4f}" if cost is not None else ""))
        print("\n".join(lines), file=sys.stderr)
    return 0 if summary.accepted else 1


def _resolve(args: argparse.Namespace):
    from kernelwright.agents.registry import resolve_roles
    from kernelwright.configs import load

    config = load(args.config, environ={}).config
    return resolve_roles(args.policy, config.roles, where=args.config or "config")


def _cmd_roles(args: argparse.Namespace) -> int:
    from kernelwright.agents.registry import available_entry_points
    from kernelwright.graphs.graph import describe_roles
    from kernelwright.tools.output import print_json

    roles, added = _resolve(args)
    rows = describe_roles(roles, added)
    if args.json:
        print_json({"roles": [dataclasses.asdict(row) for row in rows], "entry_points": available_entry_points()})
    else:
        for row in rows:
            where = f" after {row.after}" if row.after else ""
            print(f"{(row.role or '-'):<12} node {row.node:<10} {row.source}{where}")
    return 0


def _cmd_graph(args: argparse.Namespace) -> int:
    from kernelwright.graphs.graph import graph_layout, mermaid
    from kernelwright.tools.output import print_json

    roles, added = _resolve(args)
    text = mermaid(roles, added)
    if args.json:
        edges = {node: (edge[1] if edge[0] == "edge" else edge[2]) for node, edge in graph_layout(added).items()}
        print_json({"mermaid": text, "edges": edges})
    else:
        print(text)
    return 0
