"""The expert policy's four roles: deterministic, no LLM.

- planner: traces the problem, names the family and the configuration this round will try;
- coder: compiles the traced graph to a Triton solution (one candidate per round, the next
  configuration each round); raises UnsupportedProblem, naming the operations, for the rest;
- debugger: known repairs for known failures (block sizes), else nothing;
- analyst: a short BOTTLENECK / EVIDENCE / NEXT MOVES reading of the last profile.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kernelwright.agents.expert.codegen import Config, configs_for, generate
from kernelwright.agents.expert.graph_ir import Traced, UnsupportedProblem, trace_problem

_HEADER = re.compile(r"# kernelwright expert policy: family=(\w+) BLOCK=(\d+) num_warps=(\d+)")


def _device(ctx) -> str:
    device = str((getattr(ctx, "check", None) or {}).get("device") or "auto")
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return "cpu" if device.startswith("cpu") else "cuda"


def _trace(state: dict[str, Any]) -> Traced:
    return trace_problem(state["problem"]["path"])


def _round_configs(t: Traced, ctx, iteration: int) -> list[Config]:
    configs = configs_for(t, _device(ctx))
    k = max(1, int(getattr(ctx, "candidates", 1) or 1))
    start = (max(iteration, 1) - 1) * k
    return [configs[(start + i) % len(configs)] for i in range(min(k, len(configs)))]


def _describe(t: Traced, c: Config) -> str:
    n_cols = t.main_shape[-1] if t.main_shape else 1
    if t.family == "elementwise":
        return (f"elementwise chain fused into one kernel: a flat grid of cdiv(numel, {c.block}) programs, "
                f"BLOCK={c.block}, num_warps={c.num_warps}; every operand read once, the output written once")
    block = min(1 << max(0, (n_cols - 1).bit_length()), c.block)
    loop = "one chunk per pass" if block >= n_cols else f"rows of {n_cols} looped in chunks of {block}"
    return (f"last-dim row kernel: one program per row, {t.reductions} reduction(s) in dependency passes, "
            f"BLOCK=min(next_pow2(n_cols), {c.block}) = {block} for n_cols={n_cols} ({loop}), num_warps={c.num_warps}")


def planner(state: dict[str, Any], ctx) -> dict[str, Any]:
    iteration = state.get("iteration", 1)
    try:
        t = _trace(state)
    except UnsupportedProblem as exc:
        return {"plan": f"STRATEGY: none: {exc}\nNEXT: the coder reports the unsupported operations and the run fails\nEXPECTED: no solution"}
    c = _round_configs(t, ctx, iteration)[0]
    lessons = []
    if getattr(ctx, "lessons", None):
        try:
            lessons = ctx.lessons(f"{t.family} triton kernel block size") or []
        except Exception:  # the memory is advice only: a broken store must not stop the run
            lessons = []
    shape = "x".join(str(s) for s in t.main_shape)
    lines = [
        f"STRATEGY: {_describe(t, c)} (shape {shape}, device {_device(ctx)})",
        "NEXT: generate the kernel from the traced graph; if it fails on block limits, halve the block",
        "EXPECTED: memory-bound; time close to bytes moved / bandwidth",
    ]
    if lessons:
        lines.append(f"LESSONS: {len(lessons)} retrieved; first: {lessons[0].splitlines()[0][:160]}")
    return {"plan": "\n".join(lines)}


def _candidate(state, source: str, cid: str, parent: str | None = None, origin: str = "code", tries: int = 0) -> dict[str, Any]:
    return {"id": cid, "source": source, "parent_id": parent, "origin": origin, "iteration": state["iteration"], "debug_tries": tries}


def coder(state: dict[str, Any], ctx) -> dict[str, Any]:
    t = _trace(state)  # raises UnsupportedProblem, naming what has no kernel
    source_text = state["problem"].get("source") or None
    pending = []
    for i, c in enumerate(_round_configs(t, ctx, state["iteration"])):
        src = generate(t, source_text or Path(state["problem"]["path"]).read_text(), c)
        pending.append(_candidate(state, src, f"r{state['iteration']}-c{i}"))
    return {"pending": pending}


_BLOCK_FAILURES = ("power of two", "power-of-two", "power of 2", "arange", "shared memory", "out of resources",
                   "outofresources", "too many resources", "registers", "spill")


def debugger(state: dict[str, Any], ctx) -> dict[str, Any]:
    from kernelwright.graphs.routing import debuggable_attempts

    pending = []
    for a in debuggable_attempts(state, ctx.budgets):
        m = _HEADER.search(a.get("source") or "")
        text = " ".join(r.get("message", "") for r in a.get("reasons") or []).lower()
        if not m or not any(k in text for k in _BLOCK_FAILURES):
            continue  # no known repair: give up on this configuration
        block, warps = int(m.group(2)), int(m.group(3))
        p2 = 1 << (block.bit_length() - 1)  # rounded down to a power of two
        new_block = max(64, p2 // 2 if p2 == block else p2)
        if new_block == block:
            continue
        cfg = Config(new_block, max(1, min(warps, new_block // 64)))
        t = _trace(state)
        src = generate(t, state["problem"].get("source") or Path(state["problem"]["path"]).read_text(), cfg)
        tries = a.get("debug_tries", 0) + 1
        pending.append(_candidate(state, src, f"{a['candidate_id']}-d{tries}", a["candidate_id"], "debug", tries))
    return {"pending": pending}


def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) else None


def analyst(state: dict[str, Any], ctx) -> dict[str, Any]:
    profile = state.get("profile") or {}
    timing = profile.get("timing") or {}
    roof = profile.get("roofline") or {}
    resources = profile.get("resources") or {}
    median = _num((timing.get("candidate") or {}).get("median_ms"))
    sol = _num(roof.get("t_sol_ms"))
    bound = roof.get("bound")
    best = state.get("best") or {}
    speed = best.get("speedup") or {}
    evidence = []
    if median is not None:
        evidence.append(f"median {median:.4g} ms")
    if median and sol:
        evidence.append(f"speed-of-light {sol:.4g} ms ({100 * sol / median:.0f}% of SoL)")
    if speed:
        evidence.append("speedup " + ", ".join(f"{k} {v:.2f}x" for k, v in speed.items() if isinstance(v, (int, float))))
    spills = _find(resources, "spills")
    if spills:
        evidence.append(f"register spills {spills}")
    if median is None:
        bottleneck = "unknown: no timing on this device (correctness only)"
        moves = ["keep the accepted configuration; time it on a GPU to tune BLOCK and num_warps"]
    elif sol and median and sol / median >= 0.8:
        bottleneck = f"{bound or 'memory'}-bound and near speed-of-light"
        moves = ["stop tuning: little left to gain", "larger blocks only if launch overhead dominates at small sizes"]
    else:
        bottleneck = f"{bound or 'memory'}-bound, below speed-of-light"
        moves = ["try the next BLOCK / num_warps configuration",
                 "for rows: avoid re-reading the row in every pass when it fits one block"]
        if spills:
            moves.insert(0, "lower BLOCK or raise num_warps: registers spill")
    text = f"BOTTLENECK: {bottleneck}\nEVIDENCE: {'; '.join(evidence) or 'none'}\nNEXT MOVES: " + "; ".join(moves)
    return {"analysis": text}


def _find(obj, key: str):
    """The first numeric value under `key` anywhere in a nested dict/list (resource reports vary)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key and isinstance(v, (int, float)) and v:
                return v
            found = _find(v, key)
            if found:
                return found
    elif isinstance(obj, list):
        for v in obj:
            found = _find(v, key)
            if found:
                return found
    return None
