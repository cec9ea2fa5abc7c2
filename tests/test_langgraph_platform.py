"""langgraph.json and its graph factory, loaded the way the LangGraph CLI's server does it
(`langgraph dev`: langgraph_api.graph reads the spec, imports the file by path, finds the
variable, calls a factory with the run's config), then run with a context filled as Studio
fills it: a JSON object validated against the graph's context schema."""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys

import pytest
import yaml
from langgraph.pregel import Pregel

from paths import PROBLEMS, ROOT

# In the test extra; the GPU machine's wheels lack it, and its `pytest -m gpu` collects this file too.
validate_config_file = pytest.importorskip("langgraph_cli.config", reason="langgraph-cli is not installed").validate_config_file


def load_graph(config_file, graph_id: str, run_config: dict):
    config = validate_config_file(config_file)  # the CLI's own check of langgraph.json
    path, _, variable = config["graphs"][graph_id].rpartition(":")
    path = (config_file.parent / path).resolve()
    modname = str(path.relative_to(config_file.parent)).replace("/", "__").replace(".py", "")
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    value = module.__dict__[variable]
    if isinstance(value, Pregel):
        return value
    assert callable(value) and len(inspect.signature(value).parameters) <= 1  # the server's factory arities
    return value(run_config) if inspect.signature(value).parameters else value()


def test_the_cli_config_loads_the_graph_and_a_studio_context_runs_it(tmp_path):
    quick = tmp_path / "quick.yaml"
    quick.write_text(yaml.safe_dump({"budgets": {"max_iters": 1}, "profile": {"tier": "off"},
                                     "check": {"trials": 1, "timeout_s": 120, "static_resources": False}}))
    run_config = {"configurable": {"thread_id": "studio-run-1", "policy": "expert", "config_path": str(quick)}}
    graph = load_graph(ROOT / "langgraph.json", "kernelwright", run_config)
    assert isinstance(graph, Pregel) and graph.name == "kernelwright"
    drawn = graph.get_graph()
    assert {"plan", "code", "check", "debug", "profile", "analyze", "finish"} <= set(drawn.nodes)
    schema = graph.get_context_jsonschema()
    assert schema["required"] == ["problem"] and {"model", "base_url", "device", "home"} <= set(schema["properties"])
    # Studio sends the context as JSON and the input may be empty: the first node fills the state.
    context = json.loads(json.dumps({"problem": str(PROBLEMS / "gelu_scale.py"), "device": "cpu", "home": str(tmp_path / "home")}))
    final = graph.invoke({}, run_config, context=context)
    assert final["run_id"] == "studio-run-1" and final["problem"].name == "gelu_scale"
    assert final["status"] == "finished" and final["best"].verdict == "accepted"
    assert (tmp_path / "home" / "runs" / "studio-run-1" / "solution.py").exists()


def test_the_factory_adds_approval_nodes_from_the_assistant_configuration():
    graph = load_graph(ROOT / "langgraph.json", "kernelwright", {"configurable": {"policy": "expert", "approve": ["plan"]}})
    assert "approve_plan" in graph.get_graph().nodes
