"""The reference worker's side of the perturbation, stress and parameter trials (see
`kernelwright.tools.check.plan`): it makes their inputs and decides where a stress trial is fair.

A stress trial is fair where the reference stays finite and about as accurate as at the shipped
scale: its output at working precision is compared with a float64 evaluation of the same model
(the rounding error an honest kernel also makes), relative to the tolerance the candidate is
judged with. Scaling attention scores by 1e8 makes the function itself ill-conditioned; such a
scale is not tried on a candidate, a milder one is.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import torch

# At import, not in a function: a lazy import in the candidate's process would go through import
# machinery its code controls (red team pass 10).
from kernelwright.tools.check.init_accounting import module_tensors
from kernelwright.tools.worker.common import device_free
from kernelwright.tools.worker.numerics import precise_reference

# Factors tried in order, the strongest first (stress "up" and "down" multiply every floating
# input; "offset" adds the factor times the input's own largest magnitude).
STRESS_FACTORS = {
    "up": (1e4, 1e3, 1e2, 16.0),
    "down": (1e-4, 1e-3, 1e-2, 1 / 16),
    "offset": (256.0, 64.0, 16.0, 4.0),
}
# How much of the tolerance the reference's own rounding error may use at a stress scale
# (or twice what it uses at the shipped scale, whichever is more). The estimate (the float64
# comparison and the one-ulp nudge) undercounts the rounding an honest kernel accumulates along a
# long reduction (an fp32 scan of 500 values at x16, summed in order: up to 9x the estimate), and
# scaling a homogeneous function (a sum, a scan, a matmul) up or down moves its honest error with
# the factor, against an atol that stays. So a scaled trial keeps the estimate under a tenth of
# the tolerance (an honest scan stays inside it); an offset trial, where cancellation
# bugs show, keeps a quarter (layer_norm's honest kernel measured at under the estimate there).
ACCURACY_SHARE = {"up": 0.1, "down": 0.1, "offset": 0.25}
TF32_EPS = 2.0**-10  # TF32 keeps 10 explicit mantissa bits


@dataclasses.dataclass
class Stress:
    inputs: list[Any] | None
    detail: str  # what was done, or why the trial was skipped
    factor: float = 0.0  # the factor chosen (`stress_inputs` makes the inputs again from it)


def _floating(values: list[Any]) -> list[int]:
    return [i for i, v in enumerate(values) if isinstance(v, torch.Tensor) and v.is_floating_point() and v.numel()]


def perturb(inputs: list[Any], how: str, seed: int, degenerate_rows: bool = True) -> tuple[list[Any], str]:
    """The inputs with 3 random elements (`elements`) or one whole row (`row`) of every tensor
    replaced by values found elsewhere in the same tensor (so indices stay valid indices), or
    flipped for booleans; or every floating tensor rounded to integers (`ties`), with zero slices
    (`_degenerate_rows`) unless `degenerate_rows` is off."""
    gen = torch.Generator().manual_seed(seed)
    out, changed = [], []
    picks: dict[tuple[str, int], int] = {}  # the zero slices, shared by inputs of the same sizes
    for i, value in enumerate(inputs):
        if not isinstance(value, torch.Tensor) or value.numel() < 2:
            out.append(value)
            continue
        # On the tensor's own device (a GPU input of several GB never crosses to the host); the
        # positions come from a seeded CPU generator, so both workers change the same ones.
        copy = value.detach().clone()
        flat = copy.reshape(-1)
        if how == "ties":
            if copy.is_floating_point():
                copy = copy.round()
                changed.append(f"input {i} rounded to integers (tied values)")
                if degenerate_rows:
                    changed.extend(_degenerate_rows(copy, i, picks, gen))
            out.append(copy)
            continue
        if how == "elements":
            where = distinct_positions(flat.numel(), 3, gen)
            source = torch.randint(flat.numel(), (where.numel(),), generator=gen)
            # Values found elsewhere may all equal the ones they replace (class labels of few values):
            # drawn again, so that the trial changes the input (red team pass 10).
            for _ in range(8):
                if copy.dtype == torch.bool or not torch.equal(flat[where.to(copy.device)], flat[source.to(copy.device)]):
                    break
                source = torch.randint(flat.numel(), (where.numel(),), generator=gen)
            if copy.dtype == torch.bool:
                flat[where.to(copy.device)] = ~flat[where.to(copy.device)]
            else:
                flat[where.to(copy.device)] = flat[source.to(copy.device)]
            changed.append(f"input {i} elements {where.tolist()}")
        else:
            axis = next((d for d in range(copy.dim()) if copy.shape[d] >= 2), 0)
            rows = torch.randperm(copy.shape[axis], generator=gen)[:2].tolist()
            target, source = rows[0], rows[1]
            copy.select(axis, target).copy_(copy.select(axis, source))
            changed.append(f"input {i} row {target} (dim {axis}) set to row {source}")
        out.append(copy)
    return out, "; ".join(changed) or "no tensor input to change"


PERMUTE_UP_TO = 1 << 24  # elements; beyond, a full permutation costs minutes and GBs of host memory


def distinct_positions(n: int, k: int, gen: torch.Generator) -> torch.Tensor:
    """`k` distinct positions in range(n) from `gen`, the same in both workers. Up to
    PERMUTE_UP_TO the first k of a random permutation (what every check drew before); beyond, draws
    with the duplicates drawn again: at KernelBench's sizes (19_ReLU: 1.6e9 elements) randperm built
    a 12.8 GB index on the host and shuffled it, in each worker, for a minute or more."""
    if n <= PERMUTE_UP_TO:
        return torch.randperm(n, generator=gen)[:k]
    picked: list[int] = []
    while len(picked) < min(k, n):
        drawn = int(torch.randint(n, (1,), generator=gen))
        if drawn not in picked:
            picked.append(drawn)
    return torch.tensor(picked, dtype=torch.int64)


def _degenerate_rows(x: torch.Tensor, i: int, picks: dict[tuple[str, int], int], gen: torch.Generator) -> list[str]:
    """One slice of zeros along the first dimension of 2 or more and one along the last, in place:
    a norm and a variance of zero whichever way the problem reduces, where a kernel without the
    reference's eps or clamp divides 0 by 0 (an L2 norm without its max(||x||, eps), a variance
    without its eps). Random inputs never have them. Inputs of the same sizes get the same slices
    (`picks`), so a sum of two inputs (a residual) is zero there too; a tensor whose only dimension
    of 2 or more is its last (a single query row, a vector) is all zeros. (Zeros only: a slice of
    one other repeated value would cross the other zero slice and no longer be constant.) Then one
    more slice along the last dimension is negated."""
    sized = [d for d in range(x.dim()) if x.shape[d] >= 2]
    if sized == [x.dim() - 1]:
        x.zero_()
        return [f"input {i} all zeros"]
    done = []
    for role, axis in (("first", sized[0] if sized else None), ("last", x.dim() - 1)):
        if axis is None or x.shape[axis] < 2 or (role == "last" and axis == sized[0]):
            continue
        key = (role, x.shape[axis])
        if key not in picks:
            picks[key] = int(torch.randint(x.shape[axis], (1,), generator=gen))
        x.select(axis, picks[key]).zero_()
        done.append(f"input {i} slice {picks[key]} of dim {axis} all zeros")
    # And one other slice along the last dimension negated: random inputs drawn around a positive
    # value never have a negative element, and a kernel that takes logs of them (a cumulative product
    # as exp(cumsum(log x)): red team pass 8) is wrong for the first one that comes.
    last = x.dim() - 1
    if x.shape[last] >= 3 and sized and sized != [last]:
        key = ("negated", x.shape[last])
        if key not in picks:
            zeroed = picks.get(("last", x.shape[last]), -1)
            choice = int(torch.randint(x.shape[last] - 1, (1,), generator=gen))
            picks[key] = choice + (choice >= zeroed >= 0)  # any slice but the zeroed one
        x.select(last, picks[key]).neg_()
        done.append(f"input {i} slice {picks[key]} of dim {last} negated")
    return done


def stress_inputs(inputs: list[Any], how: str, factor: float) -> list[Any]:
    out = list(inputs)
    for i in _floating(inputs):
        x = inputs[i]
        if how == "offset":
            out[i] = x + factor * x.abs().max().to(x.dtype) * _alternating_signs(x)
        else:
            out[i] = x * factor
    return out


def _alternating_signs(x: torch.Tensor) -> torch.Tensor:
    """+1, -1, +1, ... along the first dimension of 2 or more (broadcast over the others): an offset
    trial shifts some rows up and some down, so a kernel exact for one sign only (a one-pass
    variance shifted by +max|x|) fails in the same trial. Each row keeps one offset, so a function
    invariant to a per-row shift (a norm, a softmax over the last dimension) stays so."""
    axis = next((d for d in range(x.dim()) if x.shape[d] >= 2), None)
    if axis is None:
        return torch.ones((), dtype=x.dtype, device=x.device)
    signs = 1 - 2 * (torch.arange(x.shape[axis], device=x.device) % 2)
    return signs.to(x.dtype).reshape([x.shape[axis] if d == axis else 1 for d in range(x.dim())])


def _bound(ref: torch.Tensor, tolerances: dict[str, list[float]], dtype: torch.dtype, strict: bool, biggest: float) -> torch.Tensor:
    """The tolerance at each element of `ref`; `biggest`: the largest finite |value| of the whole
    reference (its strict atol scales with it, as the comparison's does)."""
    atol, rtol, kappa = tolerances["16bit" if dtype in (torch.float16, torch.bfloat16) else "fp32"]
    return ref.abs() * rtol + (min(atol, kappa * biggest) if strict else atol)


def _flat(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flat(o)]
    return []


def error_share(out: Any, exact: Any, tolerances: dict[str, list[float]], strict: bool) -> float:
    """The largest |out - exact| as a share of the tolerance bound (inf where a non-finite value
    or an integer differs). In chunks of `compare.CHUNK` elements: float64 copies of a whole
    KernelBench-sized output (12.8 GB each at 19_ReLU's) would fill the device."""
    from kernelwright.tools.check.compare import CHUNK

    worst = 0.0
    for o, e in zip(_flat(out), _flat(exact)):
        if o.numel() == 0:
            continue
        if not o.is_floating_point():
            if not torch.equal(o.cpu(), e.to(o.dtype).cpu()):
                return float("inf")
            continue
        flat_o, flat_e = o.reshape(-1), e.reshape(-1)
        parts = range(0, flat_o.numel(), CHUNK)
        biggest, any_finite = 0.0, False
        for at in parts:  # first pass: the finite positions agree; the largest finite |exact|
            oc, ec = flat_o[at:at + CHUNK], flat_e[at:at + CHUNK]
            finite = torch.isfinite(ec)
            if not torch.equal(finite, torch.isfinite(oc)):
                return float("inf")
            if bool(finite.any()):
                any_finite = True
                biggest = max(biggest, float(ec.double().abs().where(finite, 0.0).max()))
        if not any_finite:
            continue
        for at in parts:
            o64, e64 = flat_o[at:at + CHUNK].double(), flat_e[at:at + CHUNK].double()
            finite = torch.isfinite(e64)
            bound = _bound(e64[finite], tolerances, o.dtype, strict, biggest)
            if bound.numel():
                worst = max(worst, float(((o64[finite] - e64[finite]).abs() / bound).max()))
    return worst


def nonfinite(out: Any) -> int:
    return sum(int((~torch.isfinite(t)).sum()) for t in _flat(out) if t.is_floating_point())


def _float64_fits(inputs: list[Any], out: Any) -> bool:
    """Whether a float64 evaluation (the inputs and the output widened, twice the bytes each) fits
    the free memory of the inputs' GPU with a margin. Always True on the host, whose memory the
    scratch budget already sized."""
    tensors = [v for v in inputs if isinstance(v, torch.Tensor)] + _flat(out)
    device = next((t.device for t in tensors if t.device.type == "cuda"), None)
    if device is None:
        return True
    need = sum(2 * t.numel() * 8 for t in tensors if t.is_floating_point())
    return need * 1.5 < device_free(device)


def _release_cached(inputs: list[Any]) -> None:
    """After a float64 evaluation failed for room: give the allocator's cached blocks back."""
    if any(isinstance(v, torch.Tensor) and v.device.type == "cuda" for v in inputs):
        torch.cuda.empty_cache()


class StressSearch:
    """Finds, per stress kind, the strongest factor at which the trial is fair for `model`."""

    def __init__(self, model: torch.nn.Module, forward: Callable[[torch.nn.Module, list[Any]], Any], tolerances: dict[str, list[float]],
                 strict: bool, precision: str | None = None) -> None:
        self.model, self.forward, self.tolerances, self.strict = model, forward, tolerances, strict
        # Under `--precision tf32` an honest kernel rounds fp32 operands to TF32: the nudge that
        # stands for an honest kernel's error is one TF32 ulp then, not one fp32 ulp.
        self.fp32_eps = TF32_EPS if precision == "tf32" else torch.finfo(torch.float32).eps
        self._exact: torch.nn.Module | None | bool = None  # False once a float64 copy failed

    def _exact_model(self) -> torch.nn.Module | None:
        if self._exact is None:
            try:
                self._exact = copy.deepcopy(self.model).double()
            except Exception:  # noqa: BLE001 - a model that cannot be copied or cast is measured by perturbation
                self._exact = False
        return self._exact or None

    def accuracy(self, inputs: list[Any], out: Any) -> float:
        """The error an honest kernel may make at `inputs`, as a share of the tolerance: the larger
        of the reference's own rounding error (against a float64 evaluation; torch's CPU reductions
        accumulate in double, so this alone can be too hopeful) and the output's change when every
        floating input moves by up to one ulp (what a backward-stable fp32 kernel amounts to)."""
        share = 0.0
        exact = self._exact_model() if _float64_fits(inputs, out) else None
        if exact is not None:
            try:
                wide = [v.double() if i in _floating(inputs) else v for i, v in enumerate(inputs)]
                with torch.inference_mode():
                    share = error_share(out, exact(*wide), self.tolerances, self.strict)
            except Exception:  # noqa: BLE001 - float64 unsupported by one of its ops (or no room for it): the nudge alone
                self._exact = False
            if self._exact is False:  # out of the handler: its traceback no longer holds the float64 copies
                _release_cached(inputs)
        gens: dict[torch.device, torch.Generator] = {}  # drawn where the input is: no host copy of a GPU input
        nudged = list(inputs)
        for i in _floating(inputs):
            x = inputs[i]
            if x.device not in gens:
                gens[x.device] = torch.Generator(device=x.device).manual_seed(0)
            gen = gens[x.device]
            noise = torch.rand(x.shape, generator=gen, device=x.device).mul_(2).sub_(1).to(x.dtype)
            eps = self.fp32_eps if x.dtype == torch.float32 else torch.finfo(x.dtype).eps
            nudged[i] = noise.mul_(eps).mul_(x).add_(x)  # x + x * noise * eps, in the noise's memory
        return max(share, error_share(self.forward(self.model, nudged), out, self.tolerances, self.strict))

    def find(self, inputs: list[Any], how: str) -> Stress:
        if not _floating(inputs):
            return Stress(None, "no floating-point input to scale")
        base_out = self.forward(self.model, inputs)
        allowed = max(ACCURACY_SHARE[how], 2 * self.accuracy(inputs, base_out))
        tried: list[str] = []
        rejected: float | None = None  # the weakest factor found unfair, stronger than the fair one
        for factor in STRESS_FACTORS[how]:
            stressed = self._fair(inputs, how, factor, base_out, allowed, tried)
            if stressed is None:
                rejected = factor
                continue
            fair = factor
            # The ladder's steps are coarse (x4 or x10): an honest error estimate that lands just
            # past the cut on one draw would drop the trial a whole step, where a fragile kernel can
            # pass (naive variance fails at +16 x max|input| by 4-8x the tolerance, passes at +4).
            # Two halvings on a log scale between the fair and the rejected factor keep the chosen
            # one within the square root of a step of the strongest fair one, whatever the draw.
            for _ in range(2 if rejected is not None else 0):
                middle = (fair * rejected) ** 0.5
                finer = self._fair(inputs, how, middle, base_out, allowed, [])
                if finer is None:
                    rejected = middle
                else:
                    fair, stressed = middle, finer
            return Stress(stressed, _stress_words(how, fair), fair)
        return Stress(None, "no fair scale: " + "; ".join(tried))

    def _fair(self, inputs: list[Any], how: str, factor: float, base_out: Any, allowed: float, tried: list[str]) -> list[Any] | None:
        """The inputs stressed by `factor` where that is fair; None (and why, in `tried`) where not."""
        stressed = stress_inputs(inputs, how, factor)
        out = self.forward(self.model, stressed)
        what = _stress_words(how, factor)
        if nonfinite(out) > nonfinite(base_out):
            tried.append(f"{what}: the reference overflows")
            return None
        share = self.accuracy(stressed, out)
        if share > allowed:
            tried.append(f"{what}: the reference's own error is {share:.2g} of the tolerance")
            return None
        return stressed


def _stress_words(how: str, factor: float) -> str:
    return f"inputs x{factor:.3g}" if how != "offset" else f"inputs +/- {factor:.3g} x max|input| (alternate rows)"


def reference_forward(model: torch.nn.Module, inputs: list[Any]) -> Any:
    with torch.inference_mode(), precise_reference():
        return plain_tuples(model(*inputs))


def plain_tuples(out: Any) -> Any:
    """The reference's output with torch's named tuples (`torch.max(x, dim)`, `topk`, `sort`: the
    `torch.return_types` structseqs) as the plain tuples they are: the judge compares exact types and
    walks plain tuples only, so a structseq reference could never be matched (a false rejection of
    every candidate). The candidate returns a plain tuple of the same tensors."""
    if isinstance(out, tuple) and type(out).__module__ == "torch.return_types":
        return tuple(plain_tuples(o) for o in out)
    if type(out) in (tuple, list):
        return type(out)(plain_tuples(o) for o in out)
    return out


def change_parameters(model: torch.nn.Module, scale: float, shift: float) -> int:
    """p -> scale*p + shift for every floating-point parameter, in place (as a training step
    would change them); the number changed. The same on Model and ModelNew, whatever the names or
    layout: an elementwise change commutes with transposes, reshapes and concatenations. A vector
    whose elements are all equal (a norm's ones and zeros) would stay so, and a kernel reading only
    its first element passed (red team pass 8): it also gets `_ripple`, by position (a vector has
    one layout), so it is uniform no more."""
    changed = 0
    with torch.no_grad():
        for p in module_tensors(model, ("_parameters",)):  # not through a method the solution's class may override
            if p.is_floating_point():
                p.mul_(scale).add_(shift)
                if p.dim() == 1 and p.numel() >= 2 and bool((p == p[0]).all()):
                    p.add_(_ripple(p))
                changed += 1
    return changed


class SubclassedTensor(Exception):
    """A parameter or buffer of ModelNew is a Tensor subclass: the checker's own operations on it
    (`change_parameters`, the weights' copy, `.to`) would run the solution's `__torch_function__`
    or `__torch_dispatch__` outside every accounted call (red team pass 10 built an answer table so)."""


_EXACT = (torch.Tensor, torch.nn.Parameter)


def refuse_subclassed_tensors(model: torch.nn.Module) -> None:
    """Raise SubclassedTensor unless every parameter and buffer is an exact Tensor or Parameter
    (by type, read without any method of theirs)."""
    odd = sorted({type(t).__name__ for t in module_tensors(model) if type(t) not in _EXACT})
    if odd:
        raise SubclassedTensor(f"ModelNew holds parameters or buffers of a Tensor subclass ({', '.join(odd)}): the checker's own "
                               "operations on them would run its code outside the checked calls; keep plain tensors and parameters")


def _ripple(p: torch.Tensor) -> torch.Tensor:
    """A deterministic change by position: +/-10% of the vector's magnitude (at least 0.01), no RNG,
    so both workers make the same one."""
    amplitude = 0.1 * max(float(p[0].abs()), 0.1)
    positions = torch.arange(p.numel(), device=p.device, dtype=torch.float32)
    return (amplitude * torch.sin(positions * 1.7 + 0.3)).to(p.dtype)
