"""`kernelwright memory list|search|show|add|forget|export|import`: the knowledge memory from the shell.

Wire it into the main parser with `add_memory_parser(sub)`. Every action takes `--home DIR`
(else $KERNELWRIGHT_HOME, else ~/.kernelwright; the file is HOME/memory.db) and `--json`.
Handlers take the argparse Namespace and return the exit code; bad input raises
`InputError`, which `kernelwright.cli.main` turns into a one-line error and exit code 2.
Human-readable listings go to stdout (they are the data asked for); `--json` replaces them with
exactly one JSON object. Importing this module is cheap: the store is imported on first use.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kernelwright.tools.problem import InputError

if TYPE_CHECKING:
    from kernelwright.memory.model import Lesson
    from kernelwright.memory.store import MemoryStore

# Same as kernelwright.memory.model.KINDS (a test checks), spelled out to keep startup light.
KINDS = ("optimization", "pitfall", "fix", "failed-idea")


def add_memory_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `memory` and its actions on the main parser's subparsers; returns its parser."""
    p = subparsers.add_parser(
        "memory",
        help="the knowledge memory: lessons with their evidence",
        description="List, search, show, add, forget, export and import lessons. Exit 0 success, 2 bad input.",
    )
    p.set_defaults(func=_cmd_usage, memory_parser=p)
    actions = p.add_subparsers(dest="memory_action", metavar="ACTION")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="kernelwright home (default $KERNELWRIGHT_HOME or ~/.kernelwright)")
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    conditions = argparse.ArgumentParser(add_help=False)
    conditions.add_argument("--arch", help="GPU architecture, e.g. sm_90 (lessons for 'any' always match)")
    conditions.add_argument("--op-family", dest="op_family", help="e.g. elementwise, row-reduction, matmul, attention")
    conditions.add_argument("--dtype", help="fp32, bf16, fp16, ...")
    conditions.add_argument("--kind", help=f"one of {', '.join(KINDS)}")

    a = actions.add_parser("list", parents=[common, conditions], help="list lessons, newest first")
    a.add_argument("--source", help="seed, learned or user")
    a.add_argument("--limit", type=int, help="at most N lessons")
    a.set_defaults(func=cmd_list)

    a = actions.add_parser("search", parents=[common, conditions], help="full-text search ranked with confidence and metrics")
    a.add_argument("query", help="free text; punctuation and quotes are fine")
    a.add_argument("-k", "--k", type=int, default=5, help="how many lessons (default 5)")
    a.add_argument("--token-budget", type=int, help="stop before the lessons' text exceeds N tokens (chars/4)")
    a.add_argument("--metric", action="append", default=[], metavar="KEY=VALUE",
                   help="current profile metric, e.g. --metric dram_pct=41 (repeatable)")
    a.set_defaults(func=cmd_search)

    a = actions.add_parser("show", parents=[common], help="one lesson with its evidence")
    a.add_argument("id")
    a.set_defaults(func=cmd_show)

    a = actions.add_parser("add", parents=[common], help="add a lesson (merged into an existing one with the same conditions and change)")
    a.add_argument("--title", required=True)
    a.add_argument("--body", required=True)
    a.add_argument("--kind", default="optimization", help=f"one of {', '.join(KINDS)} (default optimization)")
    a.add_argument("--arch", default="any", help="e.g. sm_90 (default any)")
    a.add_argument("--op-family", dest="op_family", default="any", help="e.g. matmul (default any)")
    a.add_argument("--dtype", default="any", help="fp32, bf16, fp16, ... (default any)")
    a.add_argument("--change", default="", help="the knob changed, e.g. 'num_warps 4 -> 8'")
    a.add_argument("--shape-regime", dest="shape_regime", default="", help="where it holds, e.g. 'rows <= 1024'")
    a.add_argument("--tags", default="", help="comma- or space-separated keywords")
    a.add_argument("--confidence", type=float, default=0.5, help="prior confidence in [0, 1] (default 0.5)")
    a.set_defaults(func=cmd_add)

    a = actions.add_parser("forget", parents=[common], help="delete a lesson (a forgotten seed stays forgotten)")
    a.add_argument("id")
    a.set_defaults(func=cmd_forget)

    a = actions.add_parser("export", parents=[common], help="all lessons as JSON lines (stdout or --out FILE)")
    a.add_argument("--out", help="write to FILE instead of stdout")
    a.set_defaults(func=cmd_export)

    a = actions.add_parser("import", parents=[common], help="merge lessons from a JSON-lines file ('-' for stdin)")
    a.add_argument("file")
    a.set_defaults(func=cmd_import)
    return p


def _open(args: argparse.Namespace) -> MemoryStore:
    import sqlite3

    from kernelwright.memory.store import MEMORY_FILE, MemoryStore
    from kernelwright.tools.home import require_writable, resolve_home

    home = resolve_home(args.home)
    require_writable(home)  # the store seeds its lessons on first open: a read-only home is bad input
    try:
        return MemoryStore.in_home(home)
    except sqlite3.DatabaseError as exc:  # not a database, read-only, locked past the timeout
        raise InputError(f"cannot open the memory {home / MEMORY_FILE}: {exc}") from None


def _print_json(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        raise InputError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")


def _summary_line(lesson: Lesson) -> str:
    where = f"{lesson.arch}/{lesson.op_family}/{lesson.dtype}"
    return f"{lesson.id:<32} {lesson.kind:<12} {where:<28} {lesson.confidence:.2f}  {lesson.title}"


def _cmd_usage(args: argparse.Namespace) -> int:
    args.memory_parser.print_help(sys.stderr)
    return 2


def cmd_list(args: argparse.Namespace) -> int:
    _check_kind(args.kind)
    if args.limit is not None and args.limit < 0:
        raise InputError("--limit must be at least 0")
    with _open(args) as store:
        lessons = store.list(arch=args.arch, op_family=args.op_family, dtype=args.dtype, kind=args.kind,
                             source=args.source, limit=args.limit)
    if args.json:
        _print_json({"lessons": [lesson.to_dict() for lesson in lessons]})
    else:
        for lesson in lessons:
            print(_summary_line(lesson))
        print(f"{len(lessons)} lessons", file=sys.stderr)
    return 0


def _parse_metrics(items: list[str]) -> dict[str, float] | None:
    metrics: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            metrics[key.strip()] = float(value)
        except ValueError:
            raise InputError(f"--metric {item!r} is not KEY=NUMBER (e.g. --metric dram_pct=41)") from None
    return metrics or None


def cmd_search(args: argparse.Namespace) -> int:
    from kernelwright.memory.retrieval import render_lesson

    _check_kind(args.kind)
    if args.k < 1:
        raise InputError("-k must be at least 1")
    metrics = _parse_metrics(args.metric)
    with _open(args) as store:
        hits = store.search(args.query, arch=args.arch, op_family=args.op_family, dtype=args.dtype, kind=args.kind,
                            metrics=metrics, k=args.k, token_budget=args.token_budget)
    if args.json:
        _print_json({"query": args.query, "lessons": [h.to_dict() for h in hits]})
    else:
        for h in hits:
            print(f"score {h.score:.3f}  " + render_lesson(h.lesson) + "\n")
        print(f"{len(hits)} lessons", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        lesson = store.get(args.id)
    d = lesson.to_dict()
    if args.json:
        _print_json(d)
        return 0
    import yaml

    print(yaml.safe_dump(d, sort_keys=False, allow_unicode=True, width=100).rstrip())
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from kernelwright.memory.model import Lesson

    _check_kind(args.kind)
    try:
        lesson = Lesson(title=args.title, body=args.body, kind=args.kind, arch=args.arch, op_family=args.op_family,
                        dtype=args.dtype, change=args.change, shape_regime=args.shape_regime, tags=args.tags,
                        confidence=args.confidence, source="user")
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "lesson"
        raise InputError(f"{field}: {first['msg'].removeprefix('Value error, ')}") from None
    with _open(args) as store:
        stored, merged = store.add_or_merge(lesson)
    if args.json:
        _print_json({**stored.to_dict(), "merged": merged})
    else:
        verb = "merged into" if merged else "added"
        print(f"{verb} {stored.id}: {stored.title}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    with _open(args) as store:
        lesson = store.forget(args.id)
    if args.json:
        _print_json({"forgotten": lesson.id})
    else:
        print(f"forgot {lesson.id}: {lesson.title}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.out:
            out = Path(args.out)
            try:
                with out.open("w", encoding="utf-8") as fh:
                    n = store.export_jsonl(fh)
            except OSError as exc:
                raise InputError(f"cannot write {out}: {exc.strerror}") from None
            if args.json:
                _print_json({"exported": n, "path": str(out.resolve())})
            else:
                print(f"exported {n} lessons to {out}", file=sys.stderr)
        elif args.json:
            # One object, as --json promises everywhere; `import` reads this form too.
            buf = io.StringIO()
            store.export_jsonl(buf)
            _print_json({"lessons": [json.loads(line) for line in buf.getvalue().splitlines()]})
        else:
            store.export_jsonl(sys.stdout)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    if args.file == "-":
        text, name = sys.stdin.read(), "stdin"
    else:
        path = Path(args.file)
        try:
            text, name = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise InputError(f"cannot read import file {path}: {why}") from None
    with _open(args) as store:
        summary = store.import_jsonl(io.StringIO(text), name=name)
    if args.json:
        _print_json({**summary.to_dict(), "file": name})
    else:
        s = summary
        print(f"imported from {name}: {s.added} added, {s.merged} merged, {s.replaced} replaced, {s.unchanged} unchanged")
    return 0
