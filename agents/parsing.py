"""Reading plain-text model answers: fenced code blocks and short labelled sections.

Many OpenAI-compatible servers have no tool calling or JSON mode, so the roles ask for prose with
one fenced ```python block and `LABEL:` sections, and parse them here. Every way an answer can be
unusable is a `ParseError` whose message is written for the model: `ask` quotes it in the retry.

The tolerant readers (`tolerant_sections`, `tolerant_solution`) take what is usable from an
answer that ignores the requested layout (small local models often do) and say what was missing
(`Parsed.missing`), so a run goes on; they raise only when nothing usable came back. A
`ParseError` may carry a `fallback`: what to use if the retry is no better.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

PYTHON_LANGS = {"", "python", "py", "python3", "py3"}
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")
_MODEL_NEW = re.compile(r"^class[ \t]+ModelNew\b", re.MULTILINE)
# Reasoning models served raw (DeepSeek-R1, Qwen3 on some servers) put their thinking in the content.
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A value read from an answer, and what the answer lacked (empty when it had everything)."""

    value: T
    missing: tuple[str, ...] = ()


class ParseError(ValueError):
    """The answer cannot be used as asked; the message says why, in words the model can act on.
    `fallback`: a partial reading to use when a retry is no better (None: nothing usable)."""

    def __init__(self, message: str, fallback: Parsed | None = None) -> None:
        super().__init__(message)
        self.fallback = fallback


@dataclass(frozen=True)
class CodeBlock:
    lang: str  # the fence's info word, lower-cased ("" for a bare fence)
    code: str
    line: int  # 1-based line of the opening fence


def strip_reasoning(text: str) -> str:
    """The answer without `<think>...</think>` spans; an unclosed `<think>` means it was cut off."""
    text = _THINK.sub("", text)
    if re.search(r"<think>", text, re.IGNORECASE):
        raise ParseError(
            "your answer was cut off while still reasoning (<think> was never closed); "
            "think more briefly and give the final answer"
        )
    return text


def code_blocks(text: str) -> list[CodeBlock]:
    """All fenced blocks, in order. Raises ParseError if a fence is opened and never closed."""
    blocks: list[CodeBlock] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        start = i
        i += 1
        body: list[str] = []
        closed = False
        while i < len(lines):
            stripped = lines[i].strip()
            # A closing fence: the same character, at least as long, nothing after it.
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                closed = True
                break
            body.append(lines[i])
            i += 1
        if not closed:
            raise ParseError(
                f"your answer was cut off: the code block opened on line {start + 1} "
                f"({fence}{info}) was never closed; give a shorter answer whose code block is complete"
            )
        lang = info.split()[0].lower() if info else ""
        blocks.append(CodeBlock(lang=lang, code="\n".join(body).strip("\n") + "\n", line=start + 1))
        i += 1
    return blocks


def extract_solution(text: str) -> str:
    """The Python source of a KernelBench solution (`class ModelNew`) from a model's answer.

    One Python block: that block. Several: the one that defines `class ModelNew` (the last such
    if more than one do). Fences ```python, ```py and bare ``` count as Python.
    """
    text = strip_reasoning(text)
    blocks = code_blocks(text)
    python = [b for b in blocks if b.lang in PYTHON_LANGS]
    if not python:
        others = sorted({b.lang for b in blocks})
        found = f" (found only {', '.join(others)} blocks)" if others else ""
        raise ParseError(
            f"your answer has no fenced ```python code block{found}; put the complete solution "
            "file in exactly one ```python block"
        )
    with_model = [b for b in python if _MODEL_NEW.search(b.code)]
    if not with_model:
        raise ParseError(
            "no code block defines `class ModelNew(nn.Module)` at the top level; the block must be "
            "the complete solution file, with the kernels, the imports and class ModelNew"
        )
    return with_model[-1].code


def _label_pattern(labels: Iterable[str]) -> re.Pattern[str]:
    # Longest first, so "NEXT MOVES" is never read as "NEXT"; spaces may also be '_' or '-'.
    alts = [r"[ \t_-]+".join(map(re.escape, label.split())) for label in sorted(labels, key=len, reverse=True)]
    return re.compile(
        r"^[ \t>#*_-]*(?:\d+[.)][ \t]*)?[ \t*_]*"  # markdown: headings, quotes, bullets, numbers, bold
        r"(?P<label>" + "|".join(alts) + r")"
        r"[ \t*_]*(?::|$)"  # a colon, or nothing else on the line (a heading)
        r"[ \t*_]*(?P<rest>.*)$",
        re.IGNORECASE,
    )


def find_sections(text: str, labels: Iterable[str]) -> list[tuple[str, str]]:
    """(LABEL, body) pairs in the order they appear; labels matched case-insensitively.

    A section runs from its label line to the next label line. Label-looking lines inside fenced
    code are not labels. Labels are returned as given in `labels`.
    """
    labels = list(labels)
    canonical = {re.sub(r"[\s_-]+", " ", label).upper(): label for label in labels}
    pattern = _label_pattern(labels)
    found: list[tuple[str, list[str]]] = []
    fence: str | None = None
    for line in strip_reasoning(text).splitlines():
        m_fence = _FENCE.match(line)
        if fence is None and m_fence:
            fence = m_fence.group("fence")
        elif fence is not None and line.strip() and set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
            fence = None
        elif fence is None:
            m = pattern.match(line)
            if m:
                name = canonical[re.sub(r"[\s_-]+", " ", m.group("label")).upper()]
                found.append((name, [m.group("rest").rstrip(" \t*")]))
                continue
        if found:
            found[-1][1].append(line)
    return [(name, "\n".join(body).strip()) for name, body in found]


def parse_sections(text: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, str]:
    """{LABEL: body} for the labelled sections of an answer; ParseError if a required one is missing
    or empty. A label given twice keeps both bodies, joined by a blank line."""
    required, optional = list(required), list(optional)
    sections: dict[str, str] = {}
    for name, body in find_sections(text, required + optional):
        sections[name] = f"{sections[name]}\n\n{body}".strip() if name in sections else body
    missing = [name for name in required if not sections.get(name)]
    if missing:
        want = ", ".join(f"`{name}:`" for name in required)
        raise ParseError(
            f"your answer lacks the {', '.join(f'`{n}:`' for n in missing)} section(s); "
            f"start each of {want} on its own line, followed by its text"
        )
    return sections


def format_sections(sections: dict[str, str], order: Iterable[str]) -> str:
    """Sections back into text, `LABEL: body`, in the given order (for state and later prompts)."""
    return "\n".join(f"{name}: {sections[name]}" for name in order if sections.get(name))


# --- tolerant readers ---------------------------------------------------------------------------


def without_code(text: str, note: bool = True) -> str:
    """The prose of an answer: fenced blocks replaced by a one-line note (a plan is no place for a
    whole file, and later prompts carry it)."""
    lines, out, fence = text.splitlines(), [], None
    count = 0
    for line in lines:
        m = _FENCE.match(line)
        if fence is None and m:
            fence, count = m.group("fence"), 0
        elif fence is not None and line.strip() and set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
            if note:
                out.append(f"[a code block of {count} lines, left out]")
            fence = None
        elif fence is not None:
            count += 1
        else:
            out.append(line)
    return "\n".join(out).strip()


_LEADING_LABEL = re.compile(r"^[ \t#*_>-]*(?:plan|analysis|answer|summary)[ \t*_]*:[ \t*_]*", re.IGNORECASE)


def tolerant_sections(text: str, required: list[str], optional: Iterable[str] = (), free_text_as: str | None = None) -> Parsed[dict[str, str]]:
    """The labelled sections of an answer; where required ones are missing, the rest is used as it
    is and `missing` names them. An answer with no section at all becomes the `free_text_as`
    section (default: the first required one), its prose without code blocks. ParseError only
    for an answer with no usable text."""
    optional = list(optional)
    sections: dict[str, str] = {}
    for name, body in find_sections(text, required + optional):
        sections[name] = f"{sections[name]}\n\n{body}".strip() if name in sections else body
    missing = tuple(name for name in required if not sections.get(name))
    if not any(sections.get(name) for name in required):
        prose = _LEADING_LABEL.sub("", without_code(strip_reasoning(text)), count=1).strip()
        if not _LEADING_LABEL.sub("", without_code(strip_reasoning(text), note=False), count=1).strip():
            raise ParseError(
                "your answer has no text to use; start each of "
                + ", ".join(f"`{name}:`" for name in required) + " on its own line, followed by its text"
            )
        sections[free_text_as or required[0]] = prose
    return Parsed(sections, missing)


def tolerant_solution(text: str) -> Parsed[str]:
    """`extract_solution`, or failing that what can still be checked: the first Python block
    (ParseError with it as the fallback, so the model gets one retry first), or an unfenced answer
    that defines `class ModelNew` (taken at once, `missing` says the fence was)."""
    try:
        return Parsed(extract_solution(text))
    except ParseError as exc:
        stripped = strip_reasoning(text)  # an unclosed <think> raised above already
        blocks = [b for b in code_blocks(stripped) if b.lang in PYTHON_LANGS] if "cut off" not in str(exc) else []
        if blocks:
            raise ParseError(str(exc), fallback=Parsed(blocks[0].code, ("class ModelNew",))) from exc
        if "cut off" not in str(exc) and _MODEL_NEW.search(stripped):
            start = re.search(r"^(?:import|from)[ \t]", stripped, re.MULTILINE)
            code = stripped[start.start() if start else 0:].strip() + "\n"
            return Parsed(code, ("a fenced ```python block",))
        raise
