"""Roles from outside the package, plugged in through a config file in the graph tests.

They read the state's records (agents/records) by attribute and return plain dicts, which the
graph validates into records.

Each role reads its script from `ctx.role_options[<role>]` and leaves a marker file per call in
`marker_dir`, so tests can count how often each role ran (e.g. across a kill and a resume).
"""

from __future__ import annotations

import time
from pathlib import Path


def _mark(ctx, role: str) -> int:
    folder = Path(ctx.role_options[role]["marker_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    n = len(list(folder.glob(f"{role}-*"))) + 1
    (folder / f"{role}-{n}").write_text("")
    return n


def planner(state, ctx):
    _mark(ctx, "planner")
    return {"plan": f"round {state['iteration']}: one elementwise kernel"}


def coder(state, ctx):
    n = _mark(ctx, "coder")
    sources = ctx.role_options["coder"]["sources"]
    source = Path(sources[min(n, len(sources)) - 1]).read_text()
    return {"pending": [{"id": f"r{state['iteration']}-c{i}", "source": source, "parent_id": None, "origin": "code",
                         "iteration": state["iteration"], "debug_tries": 0} for i in range(ctx.candidates)]}


def debugger(state, ctx):
    _mark(ctx, "debugger")
    fixed = Path(ctx.role_options["debugger"]["fix"]).read_text()
    failed = [a for a in state["attempts"] if a.iteration == state["iteration"] and not a.accepted][-1]
    tries = failed.debug_tries + 1
    return {"pending": [{"id": f"{failed.candidate_id}-d{tries}", "source": fixed, "parent_id": failed.candidate_id,
                         "origin": "debug", "iteration": state["iteration"], "debug_tries": tries}]}


def analyst(state, ctx):
    n = _mark(ctx, "analyst")
    pause = ctx.role_options["analyst"].get("sleep_first_s", 0)
    if n == 1 and pause:
        time.sleep(pause)  # a window in which the test kills the run
    return {"analysis": f"best so far: {state['best'].candidate_id}"}


def audit(state, ctx):
    _mark(ctx, "auditor")
    return {}


def explode(state, ctx):
    raise ValueError("the plugin broke")


class Counter:
    """A class role: instances are the callables, built with the config's options."""

    def __init__(self, label: str = "counted") -> None:
        self.label = label

    def __call__(self, state, ctx):
        _mark(ctx, "auditor")
        return {"analysis": self.label}


def lesson_writer(state, ctx):
    """An analyst whose analysis carries `count` LESSON sections, titled with `tag` (the memory
    tests run two of these at once against one home)."""
    options = ctx.role_options["analyst"]
    lessons = [{"title": f"{options['tag']} lesson {i}", "body": f"observed in run {state['run_id']}"} for i in range(options["count"])]
    return {"analysis": "BOTTLENECK: none\nEVIDENCE: none\nNEXT MOVES: none", "lessons": lessons}


def idle_coder(state, ctx):
    """A coder that writes nothing (as the expert does once its space is spent)."""
    _mark(ctx, "coder")
    return {"pending": []}
