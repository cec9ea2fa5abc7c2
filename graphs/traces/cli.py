"""`kernelwright traces list|show|diff|export|serve`: read the trace store (HOME/traces.db)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kernelwright.graphs.traces.records import RunListing, RunShown, TraceRun
from kernelwright.tools.home import resolve_home
from kernelwright.tools.problem import InputError


def add_traces_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("traces", help="inspect recorded runs (list, show, diff, export, serve)")
    tsub = p.add_subparsers(dest="traces_command", metavar="ACTION", required=True)
    lst = tsub.add_parser("list", help="runs, newest first")
    lst.add_argument("--home", help="kernelwright home")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_cmd_list)
    show = tsub.add_parser("show", help="every step of one run")
    show.add_argument("run_id")
    show.add_argument("--home", help="kernelwright home")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_cmd_show)
    diff = tsub.add_parser("diff", help="per-step and outcome differences of two runs")
    diff.add_argument("run_a")
    diff.add_argument("run_b")
    diff.add_argument("--home", help="kernelwright home")
    diff.add_argument("--json", action="store_true")
    diff.set_defaults(func=_cmd_diff)
    export = tsub.add_parser("export", help="one self-contained HTML report of a run")
    export.add_argument("run_id")
    export.add_argument("--html", required=True, metavar="FILE", help="where to write the report")
    export.add_argument("--home", help="kernelwright home")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=_cmd_export)
    serve = tsub.add_parser("serve", help="the trace pages in a browser, live while a run goes on")
    serve.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--home", help="kernelwright home")
    serve.set_defaults(func=_cmd_serve)


def _store(home_flag: str | None):
    from kernelwright.graphs.traces.store import TraceStore

    path = resolve_home(home_flag) / "traces.db"
    if not path.exists():
        raise InputError(f"no traces in {path.parent} yet (run `kernelwright run` first, or pass --home)")
    return TraceStore(path)


def run_row(run: TraceRun) -> RunListing:
    return RunListing.of(run)


def show_run(store, run_id: str) -> RunShown:
    run = store.run(run_id)
    if run is None:
        raise InputError(f"no run {run_id!r} in {store.path} (see `kernelwright traces list`)")
    return RunShown.of_steps(run, store.steps(run_id))


def _cmd_list(args: argparse.Namespace) -> int:
    from kernelwright.tools.output import print_json

    store = _store(args.home)
    rows = [run_row(r) for r in store.runs()]
    if args.json:
        print_json({"runs": [r.model_dump(mode="json") for r in rows]})
        return 0
    for r in rows:
        speed = r.best_speedup if isinstance(r.best_speedup, dict) else {}
        print(f"{r.run_id:<40} {r.status:<9} {'accepted' if r.accepted else 'none':<9} "
              f"eager {speed.get('eager', '-')!s:<6} tokens {r.usage.total_tokens:<7} "
              f"{int(r.age_s // 60)} min ago  {Path(r.problem).name}" + (f"  ({r.origin_text()})" if r.origin_text() else ""))
    return 0


def money(usd: float | None) -> str:
    """Dollars for people: '$0.0123'; 'n/a' where no price was configured (llm.prices)."""
    return f"${usd:.4f}" if isinstance(usd, (int, float)) else "n/a (no price in llm.prices)"


def _cmd_show(args: argparse.Namespace) -> int:
    from kernelwright.agents.cost import total_cost
    from kernelwright.tools.output import print_json

    data = show_run(_store(args.home), args.run_id)
    if args.json:
        print_json(data.model_dump(mode="json"))
        return 0
    print(f"run {data.run_id} ({data.problem}): {data.status}; {data.stop_reason or data.error or ''}")
    print(f"policy {data.policy}, model {data.model or '-'}; tokens {data.usage.total_tokens}; cost {money(data.usage.cost_usd)}")
    if data.origin_text():
        print(data.origin_text() + (" (steps marked = are its copies)" if data.forked_from else ""))
    for s in data.steps:
        llm = s.llm or []
        cost = total_cost(c.get("cost_usd") for c in llm)
        extra = f" verdicts {s.verdicts}" if s.verdicts else ""
        extra += f" llm {len(llm)} call(s), {s.token_count()} tokens" + (f", {money(cost)}" if cost is not None else "") if llm else ""
        extra += f" ERROR {s.error}" if s.error else ""
        print(f"{'=' if s.inherited else ' '} [{s.index:>2}] {s.node:<9} {(s.role or 'tool'):<9} {s.duration_s:7.2f}s{extra}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from kernelwright.graphs.traces.diff import diff_runs, format_diff
    from kernelwright.tools.output import print_json

    store = _store(args.home)
    data = diff_runs(show_run(store, args.run_a), show_run(store, args.run_b))
    if args.json:
        print_json(data.model_dump(mode="json"))
    else:
        print(format_diff(data))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from kernelwright.graphs.traces.html import load_sources, render_html
    from kernelwright.tools.output import print_json

    home = resolve_home(args.home)
    data = show_run(_store(args.home), args.run_id)
    page = render_html(data, load_sources(data, home), home=home)
    out = Path(args.html).expanduser().resolve()
    if out.is_dir():
        raise InputError(f"--html {args.html}: is a folder; give a file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    size = out.stat().st_size
    if args.json:
        print_json({"run_id": data.run_id, "html": str(out), "bytes": size})
    else:
        print(f"wrote {out} ({size} bytes)")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from kernelwright.graphs.traces.serve import serve

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: give 0..65535")
    try:
        _store(args.home)  # no traces yet: bad input, said before listening
        serve(resolve_home(args.home), args.host, args.port)
    except OSError as exc:
        raise InputError(f"--host {args.host} --port {args.port}: cannot listen there ({exc.strerror or exc})") from exc
    return 0
