"""Rewrite losses that reduce twice (per row, then over the rows) into primitive fx nodes, so
the stage split (`pipeline`) can give each reduction its own kernel.

- cross_entropy(x [B, C], t [B]) = sum_i valid_i * (logsumexp(x_i) - x_i[t_i]) / sum_i valid_i,
  valid_i = t_i != ignore_index (mean; 'sum' and 'none' likewise). The `valid` node is built
  twice, once per stage, so the first stage leaves one value for the second.
- triplet_margin_loss(a, p, n) = mean(clamp_min(d(a, p) - d(a, n) + margin, 0)), d the pairwise
  distance (swap=False).

Anything these rewrites do not cover (class weights, label smoothing, more than 2-D logits) stays
as it is and is reported as unsupported by the lowering.
"""

from __future__ import annotations

import operator

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F


def _cross_entropy_args(gm: fx.GraphModule, node: fx.Node):
    if node.op == "call_module":
        mod = gm.get_submodule(node.target)
        if not isinstance(mod, nn.CrossEntropyLoss) or mod.weight is not None or mod.label_smoothing:
            return None
        x, t = (list(node.args) + [node.kwargs.get("input"), node.kwargs.get("target")])[:2]
        return x, t, mod.ignore_index, mod.reduction
    if node.op == "call_function" and node.target is F.cross_entropy:
        names = ["input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing"]
        p = dict(zip(names, node.args)) | dict(node.kwargs)
        if p.get("weight") is not None or p.get("label_smoothing", 0.0) or p.get("size_average") is not None \
                or p.get("reduce") is not None:
            return None
        return p["input"], p["target"], p.get("ignore_index", -100), p.get("reduction", "mean")
    return None


def _triplet_args(gm: fx.GraphModule, node: fx.Node):
    if node.op == "call_module":
        mod = gm.get_submodule(node.target)
        if not isinstance(mod, nn.TripletMarginLoss) or mod.swap:
            return None
        a, p, n = list(node.args)[:3]
        return a, p, n, mod.margin, mod.p, mod.eps, mod.reduction
    if node.op == "call_function" and node.target is F.triplet_margin_loss:
        names = ["anchor", "positive", "negative", "margin", "p", "eps", "swap", "size_average", "reduce", "reduction"]
        q = dict(zip(names, node.args)) | dict(node.kwargs)
        if q.get("swap") or q.get("size_average") is not None or q.get("reduce") is not None:
            return None
        return (q["anchor"], q["positive"], q["negative"], q.get("margin", 1.0), q.get("p", 2.0), q.get("eps", 1e-6),
                q.get("reduction", "mean"))
    return None


def _ndim(n) -> int:
    meta = n.meta.get("tensor_meta") if isinstance(n, fx.Node) else None
    return len(meta.shape) if meta is not None else -1


def decompose(gm: fx.GraphModule) -> bool:
    """Rewrite in place; True where anything changed (shapes must then be propagated again)."""
    g = gm.graph
    changed = False
    for node in list(g.nodes):
        ce = _cross_entropy_args(gm, node)
        if ce is not None and _ndim(ce[0]) == 2:
            x, t, ignore, reduction = ce
            with g.inserting_before(node):
                lse = g.call_function(torch.logsumexp, (x, 1))
                picked = g.call_method("squeeze", (g.call_function(torch.gather, (x, 1, g.call_method("unsqueeze", (t, 1)))), 1))
                per_row = g.call_function(operator.mul, (g.call_function(operator.sub, (lse, picked)),
                                                         g.call_function(operator.ne, (t, ignore))))
                if reduction == "none":
                    out = per_row
                elif reduction == "sum":
                    out = g.call_function(torch.sum, (per_row,))
                else:
                    valid = g.call_function(operator.ne, (t, ignore))  # again: read by the second stage
                    out = g.call_function(operator.truediv, (g.call_function(torch.sum, (per_row,)),
                                                             g.call_function(torch.sum, (valid,))))
            node.replace_all_uses_with(out)
            g.erase_node(node)
            changed = True
            continue
        tr = _triplet_args(gm, node)
        if tr is not None:
            a, p, n, margin, order, eps, reduction = tr
            with g.inserting_before(node):
                d_ap = g.call_function(F.pairwise_distance, (a, p, order, eps))
                d_an = g.call_function(F.pairwise_distance, (a, n, order, eps))
                diff = g.call_function(operator.add, (g.call_function(operator.sub, (d_ap, d_an)), margin))
                per_row = g.call_function(torch.clamp_min, (diff, 0.0))
                out = per_row if reduction == "none" else g.call_function(
                    torch.sum if reduction == "sum" else torch.mean, (per_row,))
            node.replace_all_uses_with(out)
            g.erase_node(node)
            changed = True
    if changed:
        g.lint()
        gm.recompile()
    return changed
