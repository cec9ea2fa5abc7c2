"""The automatic reduction of a problem's sizes for Triton's CPU interpreter (a problem without
`CPU_SIZES`): halve the size knobs until every input tensor fits a budget, cap the sizes that only
reach the constructor, and offer milder reductions to fall back to if the reference fails.
"""

from __future__ import annotations

from kernelwright.tools.sizes.model import SizeModel

# The CPU reduction: every input tensor at most this many elements, every size that only reaches
# the constructor at most INIT_CAP, no size below FLOOR; halving keeps powers of two that divide.
ELEMENT_BUDGET = 1 << 16
INIT_CAP = 128
FLOOR = 8


def cpu_reduction(model: SizeModel, budget: int = ELEMENT_BUDGET, init_cap: int = INIT_CAP) -> dict[str, int]:
    """Smaller values of the size knobs so that the problem runs under Triton's CPU interpreter:
    every input tensor at most `budget` elements, every size that only feeds the constructor at
    most `init_cap`, none below FLOOR. Halving (rounded up) keeps the powers of two that divided a
    size (a head count still divides an embedding). {} when the problem is small enough already."""
    sizes = {k.name: k.value for k in model.knobs if k.is_size and (k.shape or k.init)}
    current = dict(sizes)
    for _ in range(256):
        tensors = [(n, uses & set(current)) for n, uses in model.input_numels(current)]
        over = [t for t in tensors if t[0] > budget and any(current[u] > FLOOR for u in t[1])]
        if not over:
            break
        _, uses = max(over, key=lambda t: t[0])
        biggest = max((u for u in uses if current[u] > FLOOR), key=lambda u: current[u])
        current[biggest] = max(FLOOR, -(-current[biggest] // 2))
    in_shapes = {u for _, uses in model.input_numels(current) for u in uses}
    for name in current:
        if name not in in_shapes:
            while current[name] > init_cap:
                current[name] = max(FLOOR, -(-current[name] // 2))
    return {name: v for name, v in current.items() if v != sizes[name]}


def cpu_reductions(model: SizeModel) -> list[dict[str, int]]:
    """The CPU reduction and milder ones to fall back to if the reference fails at it (a network
    that pools 224 down by 32 needs more than 8 pixels); [] when nothing needs reducing."""
    out: list[dict[str, int]] = []
    for step in range(3):
        reduced = cpu_reduction(model, ELEMENT_BUDGET * 4**step, INIT_CAP * 2**step)
        if reduced and reduced not in out:
            out.append(reduced)
    return out
