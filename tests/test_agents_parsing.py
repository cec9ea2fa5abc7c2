"""Parsing plain-text model answers: code blocks and labelled sections."""

import pytest

from kernelwright.agents.parsing import (
    ParseError,
    code_blocks,
    extract_solution,
    find_sections,
    format_sections,
    parse_sections,
    tolerant_sections,
    tolerant_solution,
)

SOLUTION = """import torch
import torch.nn as nn
import triton
import triton.language as tl


class ModelNew(nn.Module):
    def forward(self, x):
        return x
"""


def fence(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code}```"


@pytest.mark.parametrize("lang", ["python", "py", "", "Python", "python3"])
def test_one_block_any_python_fence(lang):
    text = f"Here is the kernel.\n\n{fence(SOLUTION, lang)}\n"
    assert extract_solution(text) == SOLUTION


def test_no_block_is_a_parse_error():
    with pytest.raises(ParseError, match="no fenced ```python code block"):
        extract_solution("I would write a softmax kernel with one program per row.")


def test_only_non_python_blocks_are_named():
    with pytest.raises(ParseError, match="found only bash blocks"):
        extract_solution(fence("pip install triton\n", "bash"))


def test_two_blocks_pick_the_one_with_model_new():
    helper = "def helper():\n    return 1\n"
    usage = fence("m = ModelNew()\n")
    text = f"First a sketch:\n{fence(helper)}\nThen the file:\n{fence(SOLUTION)}\nAnd usage:\n{usage}"
    assert extract_solution(text) == SOLUTION


def test_several_model_new_blocks_pick_the_last():
    revised = SOLUTION.replace("return x", "return x.clone()")
    text = f"{fence(SOLUTION)}\nWait, a fix:\n{fence(revised)}"
    assert extract_solution(text) == revised


def test_blocks_without_model_new_are_a_parse_error():
    with pytest.raises(ParseError, match="class ModelNew"):
        extract_solution(fence("class Model:\n    pass\n"))


def test_truncated_answer_says_it_was_cut_off():
    text = "Here:\n```python\nimport torch\n\nclass ModelNew(nn.Module):\n    def forward(self, x):\n"
    with pytest.raises(ParseError, match="cut off.*line 2"):
        extract_solution(text)


def test_longer_fences_and_tildes():
    inner = SOLUTION + '\n# a docstring could show ``` inside\n'
    assert extract_solution(f"````python\n{inner}````") == inner
    assert extract_solution(f"~~~python\n{SOLUTION}~~~") == SOLUTION


def test_reasoning_is_ignored_and_unclosed_reasoning_is_cut_off():
    wrong = fence("class ModelNew: wrong\n")
    text = f"<think>maybe\n{wrong}\n</think>\n{fence(SOLUTION)}"
    assert extract_solution(text) == SOLUTION
    with pytest.raises(ParseError, match="cut off while still reasoning"):
        extract_solution("<think>let me see, the grid is")


def test_code_blocks_report_language_and_line():
    first, second = fence("x = 1\n", "py"), fence("y\n", "cpp")
    blocks = code_blocks(f"a\n{first}\nb\n{second}")
    assert [(blk.lang, blk.line) for blk in blocks] == [("py", 2), ("cpp", 6)]


def test_sections_case_insensitive_and_decorated():
    text = """Some preamble.
**Strategy:** one fused kernel,
one program per row.
## next
Try BLOCK = next_power_of_2(dim).
- expected: 2x over eager
"""
    sections = parse_sections(text, ["STRATEGY", "NEXT", "EXPECTED"])
    assert sections == {
        "STRATEGY": "one fused kernel,\none program per row.",
        "NEXT": "Try BLOCK = next_power_of_2(dim).",
        "EXPECTED": "2x over eager",
    }


def test_multiword_labels_are_not_read_as_shorter_ones():
    text = "BOTTLENECK: DRAM\nEVIDENCE: 90% of peak\nNext moves: 1. fuse\n2. vectorise\nNEXT: not this"
    found = find_sections(text, ["BOTTLENECK", "EVIDENCE", "NEXT MOVES", "NEXT"])
    assert found[2] == ("NEXT MOVES", "1. fuse\n2. vectorise")
    assert found[3] == ("NEXT", "not this")


def test_labels_inside_code_and_prose_are_not_sections():
    text = "STRATEGY: tile\n```python\nNEXT: = 3\n```\nNext, I will tune.\nNEXT: autotune\nEXPECTED: 1.5x"
    sections = parse_sections(text, ["STRATEGY", "NEXT", "EXPECTED"])
    assert sections["STRATEGY"].startswith("tile\n```python\nNEXT: = 3")
    assert sections["STRATEGY"].endswith("Next, I will tune.")
    assert sections["NEXT"] == "autotune"


def test_missing_or_empty_section_is_a_parse_error():
    with pytest.raises(ParseError, match="`EXPECTED:`"):
        parse_sections("STRATEGY: a\nNEXT: b\nEXPECTED:\n", ["STRATEGY", "NEXT", "EXPECTED"])


def test_repeated_label_is_kept_and_format_round_trips():
    sections = parse_sections("LESSON: a\nLESSON: b\nNEXT: c", ["NEXT"], optional=["LESSON"])
    assert sections["LESSON"] == "a\n\nb"
    assert format_sections(sections, ["NEXT", "LESSON"]) == "NEXT: c\nLESSON: a\n\nb"


def test_tolerant_sections_keep_what_is_there_and_name_what_is_not():
    found = tolerant_sections("NEXT: tile\nsome words", ["STRATEGY", "NEXT", "EXPECTED"])
    assert found.value == {"NEXT": "tile\nsome words"} and found.missing == ("STRATEGY", "EXPECTED")
    free = tolerant_sections("**Plan:** one kernel per row.\n```python\nx = 1\n```\nThen tune.", ["STRATEGY", "NEXT"])
    assert free.value == {"STRATEGY": "one kernel per row.\n[a code block of 1 lines, left out]\nThen tune."}
    assert free.missing == ("STRATEGY", "NEXT")
    with pytest.raises(ParseError, match="no text to use"):
        tolerant_sections("```python\nx = 1\n```", ["STRATEGY"])


def test_tolerant_solution_falls_back_to_the_first_block_or_unfenced_code():
    with pytest.raises(ParseError, match="class ModelNew") as info:
        tolerant_solution(fence("def f():\n    pass\n") + "\n" + fence("y = 2\n"))
    assert info.value.fallback.value == "def f():\n    pass\n" and info.value.fallback.missing == ("class ModelNew",)
    unfenced = tolerant_solution("Sure! Here it is:\n" + SOLUTION)
    assert unfenced.value == SOLUTION and unfenced.missing == ("a fenced ```python block",)
    with pytest.raises(ParseError) as cut:
        tolerant_solution("```python\nimport torch\n")
    assert cut.value.fallback is None
