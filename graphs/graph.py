"""`build_graph`: the LangGraph state machine of a run (docs/architecture.md), with plugins spliced in.

    plan -> code -> check -+- failed, debuggable -> debug -> check
                           +- accepted -> profile -> analyze -+- go on -> plan
                           |                                  +- stop  -> finish
                           +- nothing accepted -> plan | finish

An added role (`after: NODE`) becomes a node between NODE and whatever followed it, so NODE's
routing then starts from the added node. The caller compiles the graph with its checkpointer.
"""

from __future__ import annotations

import dataclasses
import functools

from langgraph.graph import END, START, StateGraph

from kernelwright.agents.context import Budgets, RunContext
from kernelwright.agents.records.run_state import RunState
from kernelwright.agents.registry import RoleSpec
from kernelwright.graphs import nodes
from kernelwright.graphs.approval import approval_body, approval_node, route_after_approval
from kernelwright.graphs.routing import route_after_analyze, route_after_check

# node -> ("edge", next) | ("route", function, targets)
BASE_EDGES: dict[str, tuple] = {
    "plan": ("edge", "code"),
    "code": ("edge", "check"),
    "check": ("route", route_after_check, ["debug", "profile", "plan", "finish"]),
    "debug": ("edge", "check"),
    "profile": ("edge", "analyze"),
    "analyze": ("route", route_after_analyze, ["plan", "finish"]),
    "finish": ("edge", END),
}


def graph_layout(added: list[RoleSpec], approve: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Edges after splicing each added role in after its anchor node, then an approval node right
    after each node in `approve` (it goes on to what followed, or to finish on a rejection)."""
    edges = dict(BASE_EDGES)
    for spec in added:
        edges[spec.node] = edges[spec.after]
        edges[spec.after] = ("edge", spec.node)
    for node in approve:
        after = edges[node][1]
        edges[approval_node(node)] = ("route", functools.partial(route_after_approval, after=after), [after, "finish"])
        edges[node] = ("edge", approval_node(node))
    return edges


def build_graph(roles: dict[str, RoleSpec], added: list[RoleSpec], budgets: Budgets, approve: tuple[str, ...] = (),
                context_schema: type = RunContext) -> StateGraph:
    graph = StateGraph(RunState, context_schema=context_schema)
    for spec in roles.values():
        graph.add_node(spec.node, nodes.timed(spec.node, spec.name, nodes.role_body(spec)))
    graph.add_node("check", nodes.timed("check", None, nodes.check_body))
    graph.add_node("profile", nodes.timed("profile", None, nodes.profile_body))
    graph.add_node("finish", nodes.timed("finish", None, nodes.finish_body))
    for spec in added:
        graph.add_node(spec.node, nodes.timed(spec.node, spec.name, nodes.role_body(spec)))
    for node in approve:
        graph.add_node(approval_node(node), nodes.timed(approval_node(node), None, approval_body(node)))
    graph.add_edge(START, "plan")
    for node, edge in graph_layout(added, approve).items():
        if edge[0] == "edge":
            graph.add_edge(node, edge[1])
        elif node.startswith("approve_"):
            graph.add_conditional_edges(node, edge[1], edge[2])
        else:
            _, route, targets = edge
            graph.add_conditional_edges(node, functools.partial(route, budgets=budgets), targets)
    return graph


def mermaid(roles: dict[str, RoleSpec], added: list[RoleSpec]) -> str:
    """The graph as a Mermaid flowchart (from LangGraph's own drawing of the compiled graph)."""
    compiled = build_graph(roles, added, Budgets()).compile()
    return compiled.get_graph().draw_mermaid()


@dataclasses.dataclass(frozen=True)
class RoleRow:
    """A node of the graph as `kernelwright roles` lists it."""

    role: str | None  # None: a tool node
    node: str
    source: str  # where the role's code came from ("built-in (expert)", an entry point, ...), or "tool"
    after: str | None  # an added role: the node it follows


def describe_roles(roles: dict[str, RoleSpec], added: list[RoleSpec]) -> list[RoleRow]:
    rows = [RoleRow(s.name, s.node, s.source, None) for s in roles.values()]
    rows += [RoleRow(s.name, s.node, s.source, s.after) for s in added]
    rows += [RoleRow(None, n, "tool", None) for n in ("check", "profile", "finish")]
    return rows
