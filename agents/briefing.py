"""What the llm roles tell the model: the prompt files and the run's facts, as compact text.

Every function takes the run's state (`kernelwright.agents.records.run_state`) and returns
Markdown; fields not filled in yet are skipped, so a role works on a state that is still filling in.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from kernelwright.agents.records import Attempt
from kernelwright.agents.records.run_state import RunState

if TYPE_CHECKING:
    from kernelwright.agents.context import RunContext

HISTORY_LIMIT = 12  # attempts shown to the planner and coder; older ones are counted, not listed
LESSONS_LIMIT = 6
LESSON_CHARS = 800
REASON_CHARS = 1500
REASONS_CHARS = 5000


def load_prompt(role: str, ctx: RunContext | None = None) -> str:
    """The system prompt of a role: `role_options[role]["prompt_file"]` if set, else the shipped one."""
    override = (ctx.role_options.get(role, {}) if ctx else {}).get("prompt_file")
    if override:
        return Path(override).expanduser().read_text(encoding="utf-8")
    return resources.files("kernelwright.agents").joinpath("prompts", f"{role}.md").read_text(encoding="utf-8")


def fenced(source: str) -> str:
    return f"```python\n{source.rstrip()}\n```"


def clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 20].rstrip() + " … [truncated]"


def one_line(text: str, limit: int = 200) -> str:
    return clip(" ".join(text.split()), limit)


def device_brief(ctx: RunContext) -> str:
    device = ctx.check.device
    lines = [f"- device: {device}"]
    if device == "cpu":
        lines.append(
            "- no GPU here: kernels run under Triton's interpreter (TRITON_INTERPRET=1) for "
            "correctness only and nothing is timed; the interpreter is slow, so keep grids modest"
        )
    return "\n".join(lines)


def dtypes_brief(ctx: RunContext) -> str:
    if ctx.check.precision:
        return f"floating inputs and weights are cast to {ctx.check.precision}"
    return "as get_inputs() creates them"


def problem_brief(state: RunState, ctx: RunContext) -> str:
    """The reference program, its sizes and dtypes, and the device."""
    problem = state.get("problem")
    constants = problem.constants if problem else {}
    sizes = ", ".join(f"{k} = {v}" for k, v in constants.items()) or "none found"
    parts = [
        f"## Problem: {problem.name if problem else 'unnamed'}",
        "Reference program (the checker runs it to get the expected outputs):",
        fenced(problem.source if problem else ""),
        f"Size constants (the checker also runs other, smaller values of these): {sizes}",
        f"Dtypes: {dtypes_brief(ctx)}",
        "## Device",
        device_brief(ctx),
    ]
    return "\n\n".join(parts)


_NOT_OPS = {"nn", "functional", "Module", "Tensor", "randn", "rand", "randint", "zeros", "ones", "empty", "tensor",
            "float32", "float16", "bfloat16", "float64", "int64", "int32", "device", "Parameter"}


def lessons_query(state: RunState) -> str:
    """Words for retrieval: the problem's name, its op family and the torch operations its
    reference calls (the family matters: op names alone rarely appear in general lessons)."""
    from kernelwright.agents.conditions import op_family

    problem = state.get("problem")
    source = problem.source if problem else ""
    ops = re.findall(r"\b(?:torch|F|nn|functional)\.([A-Za-z_][A-Za-z0-9_]*)", source)
    family = op_family(source).replace("-", " ")
    words = [problem.name if problem else "", family] + sorted(set(ops) - _NOT_OPS)
    return " ".join(w for w in words if w)


def lessons_brief(state: RunState, ctx: RunContext) -> str:
    if ctx.lessons is None:
        return ""
    lessons = ctx.lessons(lessons_query(state))[:LESSONS_LIMIT]
    if not lessons:
        return ""
    body = "\n".join(f"{i}. {clip(str(lesson), LESSON_CHARS)}" for i, lesson in enumerate(lessons, 1))
    return f"## Lessons from earlier runs (claims with evidence; check they apply)\n\n{body}"


_SHOWN_ID = re.compile(r"^\d+\. \[([^\]\s]+)\]", re.MULTILINE)
_CITED_ID = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.-]*)\]")
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


def shown_lesson_ids(brief: str) -> list[str]:
    """The ids of the lessons a `lessons_brief` text showed, in order."""
    return _SHOWN_ID.findall(brief)


def cited_lesson_ids(answer: str, shown: list[str]) -> list[str]:
    """The lessons an answer says it applied: ids in brackets in its prose (code blocks are not
    read), kept only if the prompt showed them, so a made-up id never counts."""
    prose = _FENCED.sub("", answer or "")
    cited = dict.fromkeys(i for i in _CITED_ID.findall(prose) if i in shown)
    return list(cited)


def speedup_text(attempt: Attempt) -> str:
    speedup = attempt.speedup or {}
    parts = [f"{name} {value:.2f}x" for name, value in speedup.items() if isinstance(value, (int, float))]
    if attempt.median_ms is not None:
        parts.append(f"{attempt.median_ms:.4g} ms")
    return ", ".join(parts) or "not timed"


def attempt_line(attempt: Attempt) -> str:
    lineage = f"{attempt.origin} of {attempt.parent_id}" if attempt.parent_id else attempt.origin
    head = f"- {attempt.candidate_id} (round {attempt.iteration}, {lineage}): {attempt.verdict}"
    if attempt.accepted:
        return f"{head}; {speedup_text(attempt)}"
    reason = attempt.first_reason()
    return f"{head}: {one_line(reason)}" if reason else head


def history_brief(state: RunState, limit: int = HISTORY_LIMIT) -> str:
    attempts = state.get("attempts") or []
    if not attempts:
        return "## Attempt history\n\nNo attempts yet."
    shown = attempts[-limit:]
    accepted = sum(1 for a in attempts if a.accepted)
    head = f"{len(attempts)} attempts, {accepted} accepted"
    if len(shown) < len(attempts):
        head += f"; the last {len(shown)} are listed"
    return "## Attempt history\n\n" + head + ":\n" + "\n".join(attempt_line(a) for a in shown)


def best_brief(state: RunState, with_source: bool = True) -> str:
    best = state.get("best")
    if not best:
        return "## Best accepted solution so far\n\nNone yet."
    text = f"## Best accepted solution so far: {best.candidate_id} ({speedup_text(best)})"
    if with_source and best.source:
        text += "\n\n" + fenced(best.source)
    return text


def plan_brief(state: RunState) -> str:
    plan = state.get("plan")
    return f"## Current plan\n\n{plan.text}" if plan and plan.text else ""


def analysis_brief(state: RunState) -> str:
    return f"## Last performance analysis\n\n{state['analysis']}" if state.get("analysis") else ""


def reasons_brief(attempt: Attempt) -> str:
    """Every reason of a failed attempt, each clipped, the whole capped (tracebacks can be long)."""
    lines, used = [], 0
    for reason in attempt.reasons:
        line = f"- [{reason.check or '?'}] {clip(reason.message, REASON_CHARS)}"
        if used + len(line) > REASONS_CHARS:
            lines.append(f"- ... {len(attempt.reasons) - len(lines)} more reasons not shown")
            break
        lines.append(line)
        used += len(line)
    return "\n".join(lines) or "- (the checker gave no reason)"


PROFILE_LINES = 40


def flatten(value: object, prefix: str = "") -> list[str]:
    """`a.b: 1.23` lines for the scalar leaves of nested dicts and lists (floats to 4 digits)."""
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in flatten(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(value, (list, tuple)):
        if value and all(not isinstance(v, (dict, list, tuple)) for v in value):
            return [f"{prefix}: {', '.join(map(str, value[:8]))}" + (" ..." if len(value) > 8 else "")]
        return [line for i, v in enumerate(value[:8]) for line in flatten(v, f"{prefix}[{i}]")]
    if value is None or value == "":
        return []
    return [f"{prefix}: {value:.4g}" if isinstance(value, float) else f"{prefix}: {value}"]


def profile_brief(state: RunState) -> str:
    """The latest profile of the best solution (`state["profile"]`: the tier, what is missing, and
    the measurements: timing, roofline, resources, metrics, ...), else the best attempt's check record."""
    profile = state.get("profile")
    best = state.get("best")
    # Bookkeeping of `kernelwright.tools.profile.tiers` stays out; its diagnosis leads the section.
    skip = {"tier", "tier_name", "candidate_id", "missing", "wall_s", "diagnosis", "subject", "problem", "solution", "versions"}
    measured = profile.model_dump(exclude=skip, exclude_none=True) if profile else {}
    if not measured and best is not None:
        measured = best.check.model_dump(exclude_none=True)
    if not measured:
        return "## Profile\n\nNo profile is available; reason from the timings and the roofline."
    lines = flatten(measured)
    if len(lines) > PROFILE_LINES:
        lines = [*lines[:PROFILE_LINES], f"... {len(lines) - PROFILE_LINES} more values not shown"]
    missing = profile.missing if profile else ()
    if missing:
        lines.append(f"not measured: {', '.join(map(str, missing))}")
    tier = profile.tier if profile else "check record"
    head = f"Diagnosis: {profile.diagnosis}\n\n" if profile and profile.diagnosis else ""
    return f"## Profile (tier: {tier})\n\n{head}" + "\n".join(f"- {line}" for line in lines)


def join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)
