"""One run is one trace tree, as LangSmith would receive it: a callback collector on the run
records every chain, chat-model and tool run with its parent. Three candidates per round, their
LLM calls and checks made in parallel threads, must each hang under their own candidate run."""

from __future__ import annotations

import threading
from collections import Counter

import yaml
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from kernelwright.graphs.runner import RunRequest, execute

from paths import PROBLEMS, SOLUTIONS

PLAN = "STRATEGY: one fused kernel\nNEXT: write it\nEXPECTED: one pass over memory"
ANALYSIS = "BOTTLENECK: launch overhead\nEVIDENCE: no timing on the CPU\nNEXT MOVES: none"


class Collector(BaseCallbackHandler):
    """Every run start, as LangSmith's tracer sees it (kind, name, ids, tags, metadata)."""

    def __init__(self) -> None:
        self.runs: dict[str, dict] = {}
        self._lock = threading.Lock()

    def _add(self, kind, name, run_id, parent_run_id, tags, metadata):
        with self._lock:
            self.runs[str(run_id)] = {"kind": kind, "name": name, "parent": str(parent_run_id) if parent_run_id else None,
                                      "tags": list(tags or []), "metadata": dict(metadata or {})}

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, tags=None, metadata=None, **kw):
        self._add("chain", kw.get("name") or (serialized or {}).get("name"), run_id, parent_run_id, tags, metadata)

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, tags=None, metadata=None, **kw):
        self._add("llm", kw.get("name") or (serialized or {}).get("name"), run_id, parent_run_id, tags, metadata)

    def on_tool_start(self, serialized, input_str, *, run_id, parent_run_id=None, tags=None, metadata=None, **kw):
        self._add("tool", kw.get("name") or (serialized or {}).get("name"), run_id, parent_run_id, tags, metadata)

    def children(self, run_id: str) -> list[dict]:
        return [{"id": k, **v} for k, v in self.runs.items() if v["parent"] == run_id]

    def descendants(self, run_id: str, kind: str) -> list[dict]:
        out = []
        for child in self.children(run_id):
            if child["kind"] == kind:
                out.append(child)
            out += self.descendants(child["id"], kind)
        return out


def answer(text: str) -> AIMessage:
    return AIMessage(content=text, usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})


def test_three_candidates_make_one_tree_with_a_subtree_per_candidate(tmp_path):
    code = answer("```python\n" + (SOLUTIONS / "gelu_scale.py").read_text() + "```\n")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"candidates": 3, "budgets": {"max_iters": 1},
                                      "check": {"device": "cpu", "trials": 1, "timeout_s": 120, "static_resources": False},
                                      "profile": {"tier": "off"}}))
    collector = Collector()
    model = GenericFakeChatModel(messages=iter([answer(PLAN), code, code, code, answer(ANALYSIS)]))
    summary = execute(RunRequest(problem=str(PROBLEMS / "gelu_scale.py"), home=tmp_path / "home", config_path=str(config),
                                 chat_model=model, callbacks=[collector]))
    assert summary.accepted, summary.error
    runs = collector.runs
    roots = [k for k, v in runs.items() if v["parent"] is None]
    assert len(roots) == 1, [runs[k]["name"] for k in roots]  # nothing detached from the run
    (root,) = roots
    assert runs[root]["name"] == "kernelwright gelu_scale" and "kernelwright" in runs[root]["tags"]
    nodes = {c["name"]: c for c in collector.children(root) if c["name"] in ("plan", "code", "check", "analyze")}
    assert set(nodes) == {"plan", "code", "check", "analyze"}
    ids = ["r1-c0", "r1-c1", "r1-c2"]
    for node, kind, count in (("code", "llm", 1), ("check", "tool", 1)):
        candidates = [c for c in collector.children(nodes[node]["id"]) if c["name"].startswith("candidate ")]
        assert sorted(c["name"] for c in candidates) == [f"candidate {i}" for i in ids], node
        for cand in candidates:
            cid = cand["name"].split()[1]
            inner = collector.descendants(cand["id"], kind)
            assert len(inner) == count, (node, cid)
            assert inner[0]["metadata"]["candidate"] == cid and inner[0]["metadata"]["round"] == 1
            assert inner[0]["metadata"]["problem"] == "gelu_scale" and f"candidate:{cid}" in inner[0]["tags"]
    llm_runs = [v for v in runs.values() if v["kind"] == "llm"]
    assert Counter(r["metadata"]["role"] for r in llm_runs) == {"planner": 1, "coder": 3, "analyst": 1}
    # Inherited from the run's config: every call says which run it belongs to.
    assert {r["metadata"]["kernelwright_run"] for r in llm_runs} == {summary.run_id}
    assert all(r["metadata"]["langgraph_node"] in ("plan", "code", "analyze") for r in llm_runs)
