"""What each LLM role answers, as typed records: the JSON schema asked for where the endpoint
supports structured output (`llm.structured`), and the plain-text reading otherwise.

An `AnswerSpec` pairs a role's pydantic schema with its two readers: `from_record` (a validated
structured answer) and `from_text` (the tolerant text parser of agents/parsing.py). Both give a
`Parsed` value of the same type, so a role does not care which way the answer came.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from kernelwright.agents.parsing import (
    Parsed,
    ParseError,
    format_sections,
    tolerant_sections,
    tolerant_solution,
)
from kernelwright.agents.records import NextStep, Plan, ProposedLesson, StepKind

T = TypeVar("T")

PLAN_SECTIONS = ("STRATEGY", "NEXT", "EXPECTED")
ANALYSIS_SECTIONS = ("BOTTLENECK", "EVIDENCE", "NEXT MOVES")


class PlanAnswer(BaseModel):
    """The plan for the next round."""

    strategy: str = Field(description="the overall design (kernels, mapping, fusion) in a few sentences")
    next: str = Field(description="the specific change or experiment for this round, precise enough to implement")
    expected: str = Field(description="the effect expected (correctness risk, speedup range and why)")


class SolutionAnswer(BaseModel):
    """A complete KernelBench solution file."""

    approach: str = Field(description="a few sentences on the approach; name lesson ids acted on in brackets")
    code: str = Field(description="the complete Python solution file defining class ModelNew")


class Lesson(BaseModel):
    title: str = Field(description="a short title")
    body: str = Field(description="when it applies, what was changed, what was measured")


class AnalysisAnswer(BaseModel):
    """A performance analysis of the best solution."""

    bottleneck: str = Field(description="what limits the kernel now")
    evidence: str = Field(description="the measurements behind it (metric = value), and what is missing")
    next_moves: str = Field(description="numbered, concrete changes, the most promising first")
    lessons: list[Lesson] = Field(description="lessons that would help on other problems (may be empty)")


@dataclass(frozen=True)
class AnswerSpec(Generic[T]):
    schema: type[BaseModel]
    from_record: Callable[[Any], Parsed[T]]
    from_text: Callable[[str], Parsed[T]]


# --- plan ----------------------------------------------------------------------------------------

def _plan(sections: dict[str, str]) -> Plan:
    """The plan's text, and its NEXT section's first line as the change the round tries."""
    first = (sections.get("NEXT") or "").strip().split("\n", 1)[0].strip()
    step = NextStep(kind=StepKind.FREE_TEXT, change=first) if first else None
    return Plan(text=format_sections(sections, PLAN_SECTIONS), next_step=step)


def plan_from_text(text: str) -> Parsed[Plan]:
    found = tolerant_sections(text, list(PLAN_SECTIONS))
    return Parsed(_plan(found.value), found.missing)


def plan_from_record(answer: PlanAnswer) -> Parsed[Plan]:
    sections = {"STRATEGY": answer.strategy, "NEXT": answer.next, "EXPECTED": answer.expected}
    return Parsed(_plan(sections), tuple(k for k, v in sections.items() if not v.strip()))


PLAN = AnswerSpec(PlanAnswer, plan_from_record, plan_from_text)


# --- analysis ------------------------------------------------------------------------------------

def _lessons_of(text: str) -> list[ProposedLesson]:
    from kernelwright.agents.parsing import find_sections

    lessons = []
    for name, body in find_sections(text, (*ANALYSIS_SECTIONS, "LESSON")):
        if name == "LESSON" and body:
            title, _, rest = body.partition("\n")
            lessons.append(ProposedLesson(title=title.strip(), body=rest.strip() or title.strip()))
    return lessons


def analysis_from_text(text: str) -> Parsed[tuple[str, list[ProposedLesson]]]:
    """The analysis (BOTTLENECK, EVIDENCE, NEXT MOVES) and the lessons of its LESSON sections."""
    found = tolerant_sections(text, list(ANALYSIS_SECTIONS), optional=("LESSON",))
    return Parsed((format_sections(found.value, ANALYSIS_SECTIONS), _lessons_of(text)), found.missing)


def analysis_from_record(answer: AnalysisAnswer) -> Parsed[tuple[str, list[ProposedLesson]]]:
    sections = {"BOTTLENECK": answer.bottleneck, "EVIDENCE": answer.evidence, "NEXT MOVES": answer.next_moves}
    lessons = [ProposedLesson(title=lesson.title.strip(), body=lesson.body.strip() or lesson.title.strip())
               for lesson in answer.lessons if lesson.title.strip()]
    return Parsed((format_sections(sections, ANALYSIS_SECTIONS), lessons), tuple(k for k, v in sections.items() if not v.strip()))


ANALYSIS = AnswerSpec(AnalysisAnswer, analysis_from_record, analysis_from_text)


# --- solution ------------------------------------------------------------------------------------

def solution_from_record(answer: SolutionAnswer) -> Parsed[tuple[str, str]]:
    """(code, the prose around it): a code field that holds a fenced answer is read as text."""
    code = answer.code if "```" not in answer.code else tolerant_solution(answer.code).value
    return Parsed((code.strip("\n") + "\n", answer.approach))


def solution_from_text(text: str) -> Parsed[tuple[str, str]]:
    try:
        found = tolerant_solution(text)
    except ParseError as exc:
        fallback = exc.fallback
        raise ParseError(str(exc), Parsed((fallback.value, text), fallback.missing) if fallback else None) from exc
    return Parsed((found.value, text), found.missing)


SOLUTION = AnswerSpec(SolutionAnswer, solution_from_record, solution_from_text)
