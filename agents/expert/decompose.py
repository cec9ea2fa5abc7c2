"""Rewrite losses that reduce twice (per row, then over the rows) into primitive fx nodes, so
the stage split (`pipeline`) can give each reduction its own kernel.

- cross_entropy(x [B, C], t [B]) = sum_i valid_i * (logsumexp(x_i) - x_i[t_i]) / sum_i valid_i,
  valid_i = t_i != ignore_index (mean; 'sum' and 'none' likewise). The `valid` node is built
  twice, once per stage, so the first stage leaves one value for the second.
- triplet_margin_loss(a, p, n) = mean(clamp_min(d(a, p) - d(a, n) + margin, 0)), d the pairwise
  distance (swap=False).

Scans: `flip(cumsum(flip(x, d), d), d)` is a reverse scan and `cat((zeros_like(<one slice>),
cumsum(narrow(x, d, 0, n - 1), d)), d)` an exclusive one: both become one `kw_scan` call.

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


def kw_scan(x: torch.Tensor, dim: int, kind: str = "sum", reverse: bool = False, exclusive: bool = False) -> torch.Tensor:
    """A cumulative sum or product along `dim`, optionally from the end and excluding the element
    itself: the fx node the scan rewrites produce (this body gives shapes and a reference)."""
    fn = torch.cumsum if kind == "sum" else torch.cumprod
    y = fn(x.flip(dim), dim).flip(dim) if reverse else fn(x, dim)
    return y - x if exclusive else y


def _scan_of(n):
    """(input, dim, kind) of a cumsum/cumprod node, else None."""
    if not isinstance(n, fx.Node) or n.op not in ("call_function", "call_method"):
        return None
    name = getattr(n.target, "__name__", n.target)
    if name not in ("cumsum", "cumprod"):
        return None
    p = dict(zip(["input", "dim"], n.args)) | dict(n.kwargs)
    if p.get("dtype") is not None or not isinstance(p.get("dim"), int):
        return None
    return p["input"], p["dim"], "sum" if name == "cumsum" else "prod"


def _flip_dim(n) -> tuple[fx.Node, int] | None:
    if not isinstance(n, fx.Node) or getattr(n.target, "__name__", n.target) != "flip" or len(n.users) > 1:
        return None
    dims = n.args[1] if len(n.args) > 1 else n.kwargs.get("dims")
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    return (n.args[0], dims[0]) if len(dims) == 1 and isinstance(dims[0], int) else None


def _norm_dim(d: int, n) -> int:
    return d % _ndim(n) if _ndim(n) > 0 else d


def _rewrite_scans(g: fx.Graph) -> bool:
    changed = False
    for node in list(g.nodes):
        outer = _flip_dim(node) if node.op != "placeholder" else None
        if outer is not None and len(node.args) and _scan_of(outer[0]) and len(outer[0].users) == 1:
            x, dim, kind = _scan_of(outer[0])
            inner = _flip_dim(x)
            if inner is not None and len({_norm_dim(outer[1], node), _norm_dim(dim, node), _norm_dim(inner[1], node)}) == 1:
                with g.inserting_before(node):
                    new = g.call_function(kw_scan, (inner[0], _norm_dim(dim, node), kind, True, False))
                node.replace_all_uses_with(new)
                for dead in (node, outer[0], x):
                    g.erase_node(dead)
                changed = True
                continue
        if getattr(node.target, "__name__", None) == "cat" and node.op == "call_function":
            parts = node.args[0] if node.args else node.kwargs.get("tensors")
            dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
            if not isinstance(parts, (list, tuple)) or len(parts) != 2 or not isinstance(dim, int):
                continue
            zeros, scanned = parts
            scan = _scan_of(scanned)
            if not isinstance(zeros, fx.Node) or getattr(zeros.target, "__name__", zeros.target) != "zeros_like" \
                    or scan is None or scan[2] != "sum":
                continue
            narrow, sdim = scan[0], scan[1]
            if not isinstance(narrow, fx.Node) or getattr(narrow.target, "__name__", narrow.target) != "narrow":
                continue
            q = dict(zip(["input", "dim", "start", "length"], narrow.args)) | dict(narrow.kwargs)
            d = _norm_dim(dim, node)
            zshape = zeros.meta.get("tensor_meta")
            if q.get("start") != 0 or _norm_dim(q.get("dim", -1), node) != d or _norm_dim(sdim, node) != d \
                    or zshape is None or zshape.shape[d] != 1 or node.meta["tensor_meta"].shape != q["input"].meta["tensor_meta"].shape:
                continue
            with g.inserting_before(node):
                new = g.call_function(kw_scan, (q["input"], d, "sum", False, True))
            node.replace_all_uses_with(new)
            changed = True
    if changed:
        g.eliminate_dead_code()
    return changed


def _ndim(n) -> int:
    meta = n.meta.get("tensor_meta") if isinstance(n, fx.Node) else None
    return len(meta.shape) if meta is not None else -1


def decompose(gm: fx.GraphModule) -> bool:
    """Rewrite in place; True where anything changed (shapes must then be propagated again)."""
    g = gm.graph
    changed = _rewrite_scans(g)
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
