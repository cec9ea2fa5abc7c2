"""The llm-policy roles, driven by a scripted chat model (no network)."""

from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from kernelwright.agents import llm_roles
from kernelwright.agents.briefing import lessons_query
from kernelwright.agents.context import Budgets, RunContext
from kernelwright.agents.llm import RoleError, UnusableAnswer
from kernelwright.agents.records.run_state import validated_update
from kernelwright.graphs.traces.store import as_json
from kernelwright.tools.check.verify import CheckOptions

from paths import PROBLEMS, SOLUTIONS

GOOD = (SOLUTIONS / "softmax_rows.py").read_text()
GOOD_ANSWER = f"One program per row, masked.\n\n```python\n{GOOD}```\n"
PLAN_ANSWER = "STRATEGY: one fused kernel per row\nNEXT: BLOCK = next_power_of_2(dim)\nEXPECTED: 2x over eager"


def answer(text: str, prompt: int = 100, completion: int = 20) -> AIMessage:
    usage = {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}
    return AIMessage(content=text, usage_metadata=usage, response_metadata={"model_name": "scripted-1"})


def make_ctx(tmp_path: Path, replies: list[AIMessage], **kw) -> RunContext:
    model = GenericFakeChatModel(messages=iter(replies))
    kw.setdefault("check", CheckOptions(device="cpu"))
    return RunContext(
        problem_path=PROBLEMS / "softmax_rows.py", run_dir=tmp_path / "run", home=tmp_path,
        chat_model=model, model_name="fake", **kw,
    )


def make_state(iteration: int = 1, **kw) -> dict:
    source = (PROBLEMS / "softmax_rows.py").read_text()
    problem = {"path": str(PROBLEMS / "softmax_rows.py"), "name": "softmax_rows", "source": source,
               "constants": {"batch_size": 32, "dim": 300}}
    return validated_update({"run_id": "t", "problem": problem, "iteration": iteration, "attempts": [], "llm_calls": [], **kw})


def attempt(
    cid: str, verdict: str, message: str = "", iteration: int = 1, parent: str | None = None, tries: int = 0, **kw
) -> dict:
    return {
        "candidate_id": cid, "parent_id": parent, "iteration": iteration, "origin": "debug" if parent else "code",
        "debug_tries": tries, "source_sha": "0", "verdict": verdict,
        "accepted": verdict == "accepted", "reasons": [{"check": "run", "message": message}] if message else [],
        "speedup": None, "median_ms": None, "max_abs_err": None, "source": f"# source of {cid}\n", **kw,
    }


# --- coder ---------------------------------------------------------------------------------------


def test_coder_retries_with_the_quoted_parse_error_and_records_usage(tmp_path):
    ctx = make_ctx(tmp_path, [answer("I'd fuse it all.", 100, 7), answer(GOOD_ANSWER, 180, 400)])
    update = as_json(llm_roles.coder(make_state(iteration=2), ctx))

    assert update["pending"] == [
        {"id": "r2-c0", "source": GOOD, "parent_id": None, "origin": "code", "iteration": 2, "debug_tries": 0,
         "applied_lessons": [], "repair": None, "kernel": None}
    ]
    first, second = update["llm_calls"]
    assert (first["attempt"], second["attempt"]) == (1, 2)
    assert first["role"] == second["role"] == "coder"
    assert first["model"] == "scripted-1"
    assert first["usage"] == {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107}
    assert second["usage"] == {"prompt_tokens": 180, "completion_tokens": 400, "total_tokens": 580}
    assert first["response"] == "I'd fuse it all." and second["latency_s"] >= 0
    # The retry shows the model its own answer and quotes the parse error.
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][2]["content"] == "I'd fuse it all."
    assert "no fenced ```python code block" in second["messages"][3]["content"]


def test_coder_gives_up_after_two_unusable_answers_with_the_calls(tmp_path):
    ctx = make_ctx(tmp_path, [answer("no code"), answer("```python\nimport torch\n")])
    with pytest.raises(UnusableAnswer, match="cut off") as info:
        as_json(llm_roles.coder(make_state(), ctx))
    assert isinstance(info.value, RoleError)
    assert [c.attempt for c in info.value.llm_calls] == [1, 2]


def test_coder_k_candidates_keeps_the_usable_ones(tmp_path):
    replies = [answer("prose"), answer("more prose"), answer(GOOD_ANSWER), answer(GOOD_ANSWER)]
    ctx = make_ctx(tmp_path, replies, candidates=3, role_options={"coder": {"concurrency": 1}})
    update = as_json(llm_roles.coder(make_state(iteration=1), ctx))
    assert [c["id"] for c in update["pending"]] == ["r1-c1", "r1-c2"]
    assert len(update["llm_calls"]) == 4
    prompts = [c["messages"][1]["content"] for c in update["llm_calls"] if c["attempt"] == 1]
    assert "candidate 1 of 3" in prompts[0] and "candidate 3 of 3" in prompts[2]


def test_coder_candidates_run_concurrently_by_default(tmp_path):
    ctx = make_ctx(tmp_path, [answer(GOOD_ANSWER) for _ in range(4)], candidates=4)
    update = as_json(llm_roles.coder(make_state(), ctx))
    assert [c["id"] for c in update["pending"]] == ["r1-c0", "r1-c1", "r1-c2", "r1-c3"]


def test_coder_prompt_carries_the_run_facts(tmp_path):
    queries = []

    def lessons(query: str) -> list[str]:
        queries.append(query)
        return ["Softmax rows: one program per row beats a two-pass split below 4096 columns."]

    state = make_state(
        iteration=2,
        plan="STRATEGY: fused\nNEXT: autotune\nEXPECTED: 1.5x",
        analysis="BOTTLENECK: launch overhead",
        attempts=[
            attempt("r1-c0", "compile_error", "case shipped-0: NameError: name 'tl' is not defined"),
            attempt("r1-c0-d1", "accepted", parent="r1-c0", speedup={"eager": 1.84, "compile": 1.1}, median_ms=0.0123),
        ],
    )
    state["best"] = state["attempts"][1]
    ctx = make_ctx(tmp_path, [answer(GOOD_ANSWER)], lessons=lessons)
    update = as_json(llm_roles.coder(state, ctx))
    system, user = (m["content"] for m in update["llm_calls"][0]["messages"])
    assert "class ModelNew(nn.Module)" in system and "try" in system
    assert "torch.softmax(x, dim=-1)" in user  # the reference source
    assert "batch_size = 32, dim = 300" in user
    assert "Triton's interpreter" in user  # device facts for --device cpu
    assert "two-pass split" in user and queries == [lessons_query(state)] and "softmax" in queries[0]
    assert "r1-c0 (round 1, code): compile_error: case shipped-0: NameError" in user
    assert "r1-c0-d1 (round 1, debug of r1-c0): accepted; eager 1.84x, compile 1.10x, 0.0123 ms" in user
    assert "# source of r1-c0-d1" in user  # the best solution so far
    assert "NEXT: autotune" in user and "BOTTLENECK: launch overhead" in user


def test_prompt_file_option_replaces_the_system_prompt(tmp_path):
    custom = tmp_path / "coder.md"
    custom.write_text("Write CUDA instead.")
    ctx = make_ctx(tmp_path, [answer(GOOD_ANSWER)], role_options={"coder": {"prompt_file": str(custom)}})
    update = as_json(llm_roles.coder(make_state(), ctx))
    assert update["llm_calls"][0]["messages"][0]["content"] == "Write CUDA instead."


def test_a_role_without_a_chat_model_says_so(tmp_path):
    ctx = RunContext(problem_path=PROBLEMS / "softmax_rows.py", run_dir=tmp_path, home=tmp_path)
    with pytest.raises(RoleError, match="no chat model"):
        as_json(llm_roles.planner(make_state(), ctx))


# --- planner -------------------------------------------------------------------------------------


def test_planner_returns_the_labelled_plan(tmp_path):
    ctx = make_ctx(tmp_path, [answer("Thinking...\n**STRATEGY**: fused\nnext: tile rows\nExpected: 2x")])
    update = as_json(llm_roles.planner(make_state(), ctx))
    assert update["plan"] == {"text": "STRATEGY: fused\nNEXT: tile rows\nEXPECTED: 2x",
                              "next_step": {"kind": "free_text", "change": "tile rows", "space": None, "reason": None, "configs": []}}
    assert len(update["llm_calls"]) == 1 and update["llm_calls"][0]["role"] == "planner"


def test_planner_takes_a_plan_missing_a_section_and_records_the_gap(tmp_path):
    # One reply only: a missing section costs no retry (the script would run out and raise).
    ctx = make_ctx(tmp_path, [answer("STRATEGY: fused\nNEXT: tile")])
    update = as_json(llm_roles.planner(make_state(), ctx))
    assert update["plan"]["text"] == "STRATEGY: fused\nNEXT: tile" and update["plan"]["next_step"]["change"] == "tile"
    (call,) = update["llm_calls"]
    assert call["missing"] == ["EXPECTED"] and call["answer_format"] == "text"


def test_planner_takes_a_free_text_plan_as_the_strategy(tmp_path):
    text = f"Plan: fuse the softmax into one kernel per row.\n\n```python\n{GOOD}```\n"
    update = as_json(llm_roles.planner(make_state(), make_ctx(tmp_path, [answer(text)])))
    assert update["plan"]["text"].startswith("STRATEGY: fuse the softmax into one kernel per row.")
    assert "class ModelNew" not in update["plan"]["text"] and "a code block of" in update["plan"]["text"]
    assert update["llm_calls"][0]["missing"] == ["STRATEGY", "NEXT", "EXPECTED"]


def test_planner_fails_only_on_an_empty_answer(tmp_path):
    with pytest.raises(UnusableAnswer, match="no text to use"):
        llm_roles.planner(make_state(), make_ctx(tmp_path, [answer(""), answer("   ")]))


def test_coder_uses_the_first_code_block_when_the_retry_is_no_better(tmp_path):
    sketch = "```python\nimport torch\n\ndef kernel(x):\n    return x\n```"
    update = as_json(llm_roles.coder(make_state(), make_ctx(tmp_path, [answer(sketch), answer(sketch)])))
    assert update["pending"][0]["source"] == "import torch\n\ndef kernel(x):\n    return x\n"
    first, second = update["llm_calls"]
    assert "class ModelNew" in first["missing"][0] and "used a partial answer" in second["missing"][-1]


# --- analyst -------------------------------------------------------------------------------------

ANALYSIS = """BOTTLENECK: memory-bound at 60% of DRAM peak
EVIDENCE: dram__throughput = 61%; no spills
NEXT MOVES:
1. process two rows per program
2. autotune num_warps
"""


def test_analyst_returns_analysis_and_lessons(tmp_path):
    lesson = "LESSON: Short rows want several rows per program\nOn sm_90, fp32, dim < 1024: 1.4x from 4 rows per program."
    best = attempt("r1-c0", "accepted", speedup={"eager": 1.2}, median_ms=0.01)
    profile = {
        "tier": "check", "candidate_id": "r1-c0", "timing": {"candidate": {"median_ms": 0.0123456, "n": 100}},
        "roofline": {"t_sol_ms": 0.0061, "pct_of_sol": 49.6}, "resources": [{"kernel": "softmax_kernel", "registers": 32}],
        "missing": ["ncu"],
    }
    state = make_state(best=best, attempts=[best], profile=profile)
    ctx = make_ctx(tmp_path, [answer(ANALYSIS + lesson)])
    update = as_json(llm_roles.analyst(state, ctx))
    assert update["analysis"].startswith("BOTTLENECK: memory-bound")
    assert "NEXT MOVES: 1. process two rows per program\n2. autotune num_warps" in update["analysis"]
    assert "LESSON" not in update["analysis"]
    assert update["lessons"] == [
        {"title": "Short rows want several rows per program", "body": "On sm_90, fp32, dim < 1024: 1.4x from 4 rows per program."}
    ]
    user = update["llm_calls"][0]["messages"][1]["content"]
    assert "## Profile (tier: check)" in user and "- timing.candidate.median_ms: 0.01235" in user
    assert "- roofline.pct_of_sol: 49.6" in user and "- resources[0].registers: 32" in user
    assert "not measured: ncu" in user


def test_analyst_without_lesson_has_no_lessons_key(tmp_path):
    update = as_json(llm_roles.analyst(make_state(), make_ctx(tmp_path, [answer(ANALYSIS)])))
    assert "lessons" not in update


# --- debugger ------------------------------------------------------------------------------------


def test_debugger_fixes_this_rounds_failures(tmp_path):
    attempts = [
        attempt("r1-c0", "compile_error", "old round", iteration=1),
        attempt("r2-c0", "compile_error", "case shipped-0: NameError: name 'BLOCK' is not defined", iteration=2),
        attempt("r2-c1", "accepted", iteration=2),
    ]
    ctx = make_ctx(tmp_path, [answer(GOOD_ANSWER)])
    update = as_json(llm_roles.debugger(make_state(iteration=2, attempts=attempts), ctx))
    assert update["pending"] == [
        {"id": "r2-c0-d1", "source": GOOD, "parent_id": "r2-c0", "origin": "debug", "iteration": 2, "debug_tries": 1,
         "applied_lessons": [], "repair": None, "kernel": None}
    ]
    user = update["llm_calls"][0]["messages"][1]["content"]
    assert "## Verdict: compile_error" in user and "name 'BLOCK' is not defined" in user
    assert "# source of r2-c0" in user


def test_debugger_chains_and_shows_earlier_versions(tmp_path):
    attempts = [
        attempt("r1-c0", "compile_error", "NameError: tl"),
        attempt("r1-c0-d1", "wrong_output", "max abs err 0.5 at [3, 7]", parent="r1-c0", tries=1),
    ]
    ctx = make_ctx(tmp_path, [answer(GOOD_ANSWER)], budgets=Budgets(max_debug_tries=3))
    update = as_json(llm_roles.debugger(make_state(attempts=attempts), ctx))
    assert [(c["id"], c["parent_id"], c["debug_tries"]) for c in update["pending"]] == [("r1-c0-d2", "r1-c0-d1", 2)]
    assert "r1-c0 (round 1, code): compile_error: NameError: tl" in update["llm_calls"][0]["messages"][1]["content"]


def test_debugger_stops_on_a_repeated_identical_failure(tmp_path):
    attempts = [
        attempt("r1-c0", "compile_error", "/tmp/kw-a1/solution.py:12: NameError at 0x7f00"),
        attempt("r1-c0-d1", "compile_error", "/tmp/kw-b2/solution.py:12: NameError at 0x7f99", parent="r1-c0", tries=1),
    ]
    ctx = make_ctx(tmp_path, [], budgets=Budgets(max_debug_tries=5))  # an empty script: no call may happen
    assert as_json(llm_roles.debugger(make_state(attempts=attempts), ctx)) == {"pending": [], "llm_calls": []}


def test_debugger_respects_the_budget_and_skips_debugged_attempts(tmp_path):
    attempts = [
        attempt("r1-c0", "compile_error", "a"),
        attempt("r1-c0-d1", "runtime_error", "b", parent="r1-c0", tries=1),
        attempt("r1-c0-d2", "wrong_output", "c", parent="r1-c0-d1", tries=2),
    ]
    ctx = make_ctx(tmp_path, [], budgets=Budgets(max_debug_tries=2))
    assert as_json(llm_roles.debugger(make_state(attempts=attempts), ctx))["pending"] == []
    ctx = make_ctx(tmp_path, [answer(GOOD_ANSWER)], budgets=Budgets(max_debug_tries=3))
    assert [c["id"] for c in as_json(llm_roles.debugger(make_state(attempts=attempts), ctx))["pending"]] == ["r1-c0-d3"]


def test_debugger_drops_a_fix_that_stays_unusable(tmp_path):
    attempts = [attempt("r1-c0", "compile_error", "a"), attempt("r1-c1", "crash", "b")]
    ctx = make_ctx(tmp_path, [answer("x"), answer("y"), answer(GOOD_ANSWER)], role_options={"debugger": {"concurrency": 1}})
    update = as_json(llm_roles.debugger(make_state(attempts=attempts), ctx))
    assert [c["id"] for c in update["pending"]] == ["r1-c1-d1"]
    assert len(update["llm_calls"]) == 3
