"""Split a reference whose graph no single kernel computes into stages, one kernel each.

A matmul fuses its elementwise epilogue but not a reduction; a kernel has one reduction structure;
a matmul's operands are tensors in memory. A GEMM followed by a GroupNorm, a softmax after a
matmul, two linears in a row: each becomes a sequence of stages whose intermediate results go
through temporaries (`kw_t0`, `kw_t1`, ...).

The split is greedy: from the first node not yet in a stage, the longest run of graph nodes that
lowers to one kernel (`tracing.lower_graph`) and leaves exactly one value for later nodes is a
stage. Elementwise work therefore joins the stage before it, as that kernel's epilogue, where it
can. Each stage is a GraphModule of its own over the same root (parameters keep their names),
whose placeholders are the model's inputs it reads and the temporaries of earlier stages.
"""

from __future__ import annotations

import dataclasses

import torch.fx as fx

from kernelwright.agents.expert.ir import UnsupportedProblem

COMPUTE = ("call_function", "call_method", "call_module")


@dataclasses.dataclass
class StagePlan:
    nodes: list[fx.Node]
    inputs: list[fx.Node]  # placeholders of the model or outputs of earlier stages, in order
    output: fx.Node


def stage_graph(gm: fx.GraphModule, plan: StagePlan, names: dict[fx.Node, str]) -> fx.GraphModule:
    """A GraphModule computing `plan.output` from `plan.inputs` (named as in `names`)."""
    g = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    for node in plan.inputs:
        ph = g.placeholder(names[node])
        ph.meta = dict(node.meta)
        env[node] = ph

    def arg(n: fx.Node) -> fx.Node:
        if n not in env:  # a parameter read (get_attr): copied into the stage
            env[n] = g.node_copy(n, arg)
        return env[n]

    for node in plan.nodes:
        env[node] = g.node_copy(node, arg)
    g.output(env[plan.output])
    return fx.GraphModule(gm, g)


def _live_out(nodes: list[fx.Node], later: set[fx.Node]) -> list[fx.Node]:
    inside = set(nodes)
    return [n for n in nodes if any(u in later or u.op == "output" for u in n.users if u not in inside)]


def plan_stages(gm: fx.GraphModule, try_stage) -> list[StagePlan]:
    """Greedy stages. `try_stage(plan, names)` returns True where the stage compiles to a kernel.
    Raises UnsupportedProblem with the error of the op no stage can start with."""
    compute = [n for n in gm.graph.nodes if n.op in COMPUTE and not (n.op == "call_module" and str(n.target).startswith("_guards"))]
    output = next(n for n in gm.graph.nodes if n.op == "output")
    names: dict[fx.Node, str] = {n: str(n.target) for n in gm.graph.nodes if n.op == "placeholder"}
    produced: dict[fx.Node, int] = {}  # node -> stage that outputs it
    plans: list[StagePlan] = []
    i = 0
    while i < len(compute):
        chosen = None
        last_error: UnsupportedProblem | None = None
        for j in range(len(compute), i, -1):
            nodes = compute[i:j]
            live = _live_out(nodes, set(compute[j:]))
            if len(live) != 1 or (j == len(compute) and live[0] not in output.all_input_nodes):
                continue
            inputs = _stage_inputs(nodes, produced)
            if any(n.op != "placeholder" and n not in produced for n in inputs):
                continue  # reads a value computed inside an earlier stage but not its output
            plan = StagePlan(nodes, inputs, live[0])
            try:
                ok = try_stage(plan, names)
            except UnsupportedProblem as exc:
                last_error = exc
                continue
            if ok:
                chosen = (j, plan)
                break
        if chosen is None:
            raise last_error or UnsupportedProblem("expert policy: no kernel for this graph (no stage split found)")
        j, plan = chosen
        produced[plan.output] = len(plans)
        names[plan.output] = f"kw_t{len(plans)}"
        plans.append(plan)
        i = j
    if not plans or plans[-1].output not in output.all_input_nodes:
        raise UnsupportedProblem("expert policy: no kernel for an output that is not a single tensor")
    return plans


def _stage_inputs(nodes: list[fx.Node], produced: dict[fx.Node, int]) -> list[fx.Node]:
    inside = set(nodes)
    out: list[fx.Node] = []
    for n in nodes:
        for a in n.all_input_nodes:
            if a in inside or a.op == "get_attr" or a in out:
                continue
            out.append(a)
    # placeholders in the model's order first, then temporaries in stage order
    return sorted(out, key=lambda a: (a.op != "placeholder", produced.get(a, -1)))
