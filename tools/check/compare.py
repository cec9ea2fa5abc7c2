"""Comparing a candidate's output with the reference's, in the parent process.

Strict rule (the evaluation protocol): |out - ref| <= atol_eff + rtol*|ref| elementwise, with
atol_eff = min(atol, kappa * max|ref|), so a tolerance cannot be loose enough for zeros or the
identity to pass on small-magnitude outputs. Non-finite values must match exactly in position
(and sign for infinities). `compat` is KernelBench's allclose(atol, rtol).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import torch

from kernelwright.tools.check.poison import PoisonPattern, poisoned_mask
from kernelwright.tools.check.tolerance import DEFAULT, Tolerances
from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.worker.events import OutputDescription


@dataclasses.dataclass
class Comparison:
    verdict: Verdict
    message: str = ""
    max_abs_err: float | None = None
    rel_err: float | None = None
    tolerance: dict[str, float] | None = None


def compare_structure(desc: OutputDescription, ref: Any, device: str) -> Comparison | None:
    """Type, structure, shape, dtype and device; None when all match."""
    if isinstance(ref, torch.Tensor):
        if desc.items is not None or desc.type != "torch.Tensor":
            return Comparison(Verdict.OUTPUT_TYPE, f"returned {desc.type}, expected exactly torch.Tensor")
        if desc.shape != list(ref.shape):
            return Comparison(Verdict.SHAPE_MISMATCH, f"output shape {desc.shape}, expected {list(ref.shape)}")
        if desc.dtype != str(ref.dtype).removeprefix("torch."):
            return Comparison(Verdict.DTYPE_MISMATCH, f"output dtype {desc.dtype}, expected {str(ref.dtype).removeprefix('torch.')}")
        if desc.device is None or torch.device(desc.device).type != torch.device(device).type:
            return Comparison(Verdict.OUTPUT_TYPE, f"output on {desc.device}, expected {device}")
        return None
    if isinstance(ref, (tuple, list)):
        if desc.type != type(ref).__name__ or len(desc.items or []) != len(ref):
            return Comparison(Verdict.OUTPUT_TYPE, f"returned {desc.type}, expected a {type(ref).__name__} of {len(ref)}")
        for d, r in zip(desc.items or [], ref):
            bad = compare_structure(d, r, device)
            if bad:
                return bad
        return None
    return Comparison(Verdict.OUTPUT_TYPE, f"reference returned {type(ref).__name__}: unsupported")


def _flatten(x: Any) -> list[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    out: list[torch.Tensor] = []
    for item in x:
        out.extend(_flatten(item))
    return out


# Elements per pass: bounds the temporaries of a comparison (a few float32 copies of one chunk)
# whatever the output's size: KernelBench's full sizes reach 1.6 G elements a tensor.
CHUNK = 1 << 24


class _Chunks:
    """The flat chunks of an output and its reference, each moved to `where` as it is visited: a
    comparison never holds a whole copy of either on the device (a candidate's output is read from
    its file on the host; a reference output held on the host while the device is short)."""

    def __init__(self, o: torch.Tensor, r: torch.Tensor, where: torch.device) -> None:
        self.flat_o, self.flat_r, self.where = o.reshape(-1), r.reshape(-1), where

    def __iter__(self) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        for at in range(0, self.flat_r.numel(), CHUNK):
            yield at, self.flat_o[at:at + CHUNK].to(self.where), self.flat_r[at:at + CHUNK].to(self.where)


def compare_values(out: Any, ref: Any, mode: str = "strict", tolerances: Tolerances = DEFAULT, poison: PoisonPattern | None = None,
                   device: torch.device | None = None) -> Comparison:
    """Values of outputs whose structure already matched, within `tolerances` (the protocol's
    defaults unless the problem has a reviewed sidecar: `kernelwright.tools.check.tolerance`).
    `poison` is the pattern the call's fresh allocations were filled with (default: the fixed one).
    `device`: where to compare (each output moves there; default: where the reference is), in
    chunks of CHUNK elements."""
    worst_abs, num, den = 0.0, 0.0, 0.0
    tol_report: dict[str, float] = {}
    for o, r in zip(_flatten(out), _flatten(ref)):
        if r.numel() == 0:
            continue
        chunks = _Chunks(o, r, device or r.device)
        unwritten = sum(int((poisoned_mask(oc, poison) & ~poisoned_mask(rc, poison)).sum()) for _, oc, rc in chunks)
        if unwritten:
            return Comparison(Verdict.UNWRITTEN_OUTPUT, f"{unwritten} of {o.numel()} output elements were never written (still hold the poison pattern)")
        atol, rtol, kappa = tolerances.for_dtype(r.dtype)
        if not r.is_floating_point():
            differ = sum(int((oc != rc).sum()) for _, oc, rc in chunks)
            if differ:
                return Comparison(Verdict.WRONG_OUTPUT, f"{differ} integer elements differ")
            continue
        # fp32 arithmetic is exact enough for tolerances >= 1e-4 and keeps large outputs cheap.
        work = torch.float64 if r.dtype == torch.float64 else torch.float32
        bad_nonfinite, max_ref = 0, 0.0
        for _, oc, rc in chunks:
            o64, r64 = oc.to(work), rc.to(work)
            finite = torch.isfinite(r64)
            if not (bool(finite.all()) and bool(torch.isfinite(o64).all())):
                same_nonfinite = (torch.isnan(o64) & torch.isnan(r64)) | (torch.isinf(o64) & (o64 == r64))
                bad_nonfinite += int(((~finite & ~same_nonfinite) | (finite & ~torch.isfinite(o64))).sum())
            max_ref = max(max_ref, float(r64.abs().where(finite, 0.0).max()))
        if bad_nonfinite:
            return Comparison(Verdict.WRONG_OUTPUT, f"{bad_nonfinite} elements are NaN/inf where the reference is not (or the reverse)")
        atol_eff = atol if mode == "compat" else min(atol, kappa * max_ref)
        tol_report = {"atol": atol, "rtol": rtol, "atol_eff": atol_eff}
        over_count, first, tensor_worst = 0, None, 0.0
        for at, oc, rc in chunks:
            o64, r64 = oc.to(work), rc.to(work)
            finite = torch.isfinite(r64)  # non-finite positions match exactly by now: compared as zeros
            o64, r64 = o64.where(finite, 0.0), r64.where(finite, 0.0)
            diff = (o64 - r64).abs_()
            mag = r64.abs()
            tensor_worst = max(tensor_worst, float(diff.max()))
            num += float(torch.linalg.vector_norm(diff, dtype=torch.float64)) ** 2
            den += float(torch.linalg.vector_norm(mag, dtype=torch.float64)) ** 2
            over = diff > mag.mul_(rtol).add_(atol_eff)
            count = int(over.sum())
            if count and first is None:
                idx = int(over.nonzero()[0])
                first = (at + idx, float(o64[idx]), float(r64[idx]))
            over_count += count
        worst_abs = max(worst_abs, tensor_worst)
        if first is not None:
            idx, got, expected = first
            return Comparison(
                Verdict.WRONG_OUTPUT,
                f"{over_count} of {r.numel()} elements out of tolerance (max abs err {tensor_worst:.3g}; "
                f"e.g. flat index {idx}: got {got:.6g}, expected {expected:.6g}; "
                f"allowed {atol_eff:.3g} + {rtol:g}*|ref|)",
                max_abs_err=tensor_worst,
                rel_err=(num**0.5) / (den**0.5) if den else None,
                tolerance=tol_report,
            )
    return Comparison(
        Verdict.ACCEPTED,
        max_abs_err=worst_abs,
        rel_err=(num**0.5) / (den**0.5) if den else 0.0,
        tolerance=tol_report or None,
    )
