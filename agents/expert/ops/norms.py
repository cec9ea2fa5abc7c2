"""Handlers of the functional normalisations: layer_norm and rms_norm over trailing dims,
group_norm, instance_norm and batch_norm (inference: running statistics, an affine map). The
arithmetic is the `Lowering`'s (`layer_norm`, `group_norm`, ...), shared with the nn modules."""

from __future__ import annotations

import torch

from kernelwright.agents.expert.ir import _as_list, _bind


def _trailing(lw, x, normalized_shape, label) -> str | None:
    n = len(_as_list(normalized_shape))
    shape = lw.in_shape(0)
    if shape is None or n > len(shape):
        lw.bad(f"{label} of a non-tensor")
        return None
    return lw.reduce_check(x, shape, list(range(len(shape) - n, len(shape))), label)


def _layer_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "normalized_shape", "weight", "bias", "eps"], {"weight": None, "bias": None, "eps": 1e-5})
    if _trailing(lw, p["input"], p["normalized_shape"], label) != "ok":
        lw.bad(f"{label} over size-1 dims")
        return None
    return lw.layer_norm(p["input"], p["weight"], p["bias"], float(p["eps"]))


def _rms_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "normalized_shape", "weight", "eps"], {"weight": None, "eps": None})
    if _trailing(lw, p["input"], p["normalized_shape"], label) != "ok":
        lw.bad(f"{label} over size-1 dims")
        return None
    eps = p["eps"] if p["eps"] is not None else torch.finfo(torch.float32).eps
    return lw.rms_norm(p["input"], p["weight"], float(eps))


def _group_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "num_groups", "weight", "bias", "eps"], {"weight": None, "bias": None, "eps": 1e-5})
    return lw.group_norm(p["input"], int(p["num_groups"]), p["weight"], p["bias"], float(p["eps"]), label)


def _instance_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "running_mean", "running_var", "weight", "bias", "use_input_stats", "momentum", "eps"],
              {"running_mean": None, "running_var": None, "weight": None, "bias": None, "use_input_stats": True, "eps": 1e-5})
    if not p["use_input_stats"]:
        return lw.batch_norm_eval(p["input"], p["running_mean"], p["running_var"], p["weight"], p["bias"], float(p["eps"]), label)
    return lw.instance_norm(p["input"], p["weight"], p["bias"], float(p["eps"]), label)


def _batch_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"],
              {"weight": None, "bias": None, "training": False, "eps": 1e-5})
    if p["training"]:
        lw.bad(f"{label} with batch statistics (training mode)")
        return None
    return lw.batch_norm_eval(p["input"], p["running_mean"], p["running_var"], p["weight"], p["bias"], float(p["eps"]), label)


NORMS = {
    "layer_norm": _layer_norm, "rms_norm": _rms_norm,
    "group_norm": _group_norm, "instance_norm": _instance_norm, "batch_norm": _batch_norm,
}
