"""A solution's own `tl.reduce`/`tl.associative_scan` combine function, run as a GPU runs it: in
a tree of whole-block calls rather than one call per element.

The stock interpreter folds a hand-written combine function element by element, one Python call
per element of the block (`generic_reduce`, `generic_scan`): a 4 x 4096 argmax block made 16,384
calls and a single check took 46 s. Here a reduction runs as a GPU's threads do: each of 128 lanes
folds its own elements in order, then the lanes combine in a tree (n/128 - 1 + 7 calls on whole
arrays); a scan is the Hillis-Steele doubling (log2(n) calls). An associative combine gives the
same answer in any of these orders; one that is not (a pairwise average), or that only works
folded left to right, is as wrong here as on a GPU.
A combine function that cannot take whole blocks (a Python `if` on its operands, legal on scalars)
falls back to the interpreter's own element-by-element fold, with the same operand order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

Combine = Callable[..., Any]
# Threads of a reduction: Triton's default 4 warps of 32. A pure tree would weigh every element
# alike, so a combine that is not associative (a pairwise average, (a + b) / 2) came out exact on the
# CPU and wrong on a GPU, where each thread first folds its own elements one after another (red team
# pass 6, seen in the sm_90 layout: 128 threads over 512 elements).
LANES = 128


def _as_arrays(result: Any, shape: tuple[int, ...], dtypes: list[np.dtype]) -> list[np.ndarray]:
    """A combine function's return value as one array per operand group, cast as the interpreter
    casts the accumulator (to the input's dtype)."""
    values = result if isinstance(result, tuple) else (result,)
    if len(values) != len(dtypes):
        raise ValueError("the combine function returns a different number of values than it takes")
    out = []
    for value, dtype in zip(values, dtypes):
        data = value.handle.data if hasattr(value, "handle") else np.asarray(value)
        out.append(np.broadcast_to(data, shape).astype(dtype))
    return out


def tree_reduce(ops: Any, input: Any, combine: Combine) -> list[Any]:
    """`ops.generic_reduce` as a GPU's default layout runs it: LANES threads each fold the elements
    they hold (every LANES-th) in order, then a tree over the threads (`combine(*left, *right)` on
    adjacent pairs): n/LANES - 1 + log2(LANES) calls on whole arrays."""
    original_axis = ops.axis
    tensors, axis = ops.unravel(input, ops.axis)
    dtypes = [t.dtype for t in tensors]
    data = [t.handle.data for t in tensors]
    np_dtypes = [d.dtype for d in data]
    n = data[0].shape[axis]
    if n > LANES and n % LANES == 0:
        # Each of LANES threads first folds the elements it holds (every LANES-th), in order.
        lane = [np.take(d, np.arange(0, LANES), axis=axis) for d in data]
        for start in range(LANES, n, LANES):
            held = [np.take(d, np.arange(start, start + LANES), axis=axis) for d in data]
            result = combine(*[ops.to_tensor(x, t) for x, t in zip(lane, dtypes)], *[ops.to_tensor(x, t) for x, t in zip(held, dtypes)])
            lane = _as_arrays(result, lane[0].shape, np_dtypes)
        data = lane
    while data[0].shape[axis] > 1:
        n = data[0].shape[axis]
        pairs = n // 2
        left = [np.take(d, np.arange(0, 2 * pairs, 2), axis=axis) for d in data]
        right = [np.take(d, np.arange(1, 2 * pairs, 2), axis=axis) for d in data]
        result = combine(*[ops.to_tensor(x, t) for x, t in zip(left, dtypes)], *[ops.to_tensor(x, t) for x, t in zip(right, dtypes)])
        combined = _as_arrays(result, left[0].shape, np_dtypes)
        if n % 2:  # the odd last element waits for the next step, in its place
            combined = [np.concatenate([c, np.take(d, [n - 1], axis=axis)], axis=axis) for c, d in zip(combined, data)]
        data = combined
    out = []
    for d, t in zip(data, dtypes):
        d = np.squeeze(d, axis=axis)
        if ops.keep_dims:
            d = np.expand_dims(d, axis) if original_axis is not None else d.reshape((1,) * len(tensors[0].handle.data.shape))
        elif original_axis is None:
            d = d.item()
        out.append(ops.to_tensor(d, t))
    return out


def tree_scan(ops: Any, input: Any, combine: Combine) -> list[Any]:
    """`ops.generic_scan` (inclusive, along `ops.axis`) in log2(n) calls: at distance 1, 2, 4, ...
    each element is combined with the running value that far before it (earlier operand first)."""
    axis = ops.axis
    dtypes = [t.dtype for t in input]
    data = [t.handle.data for t in input]
    np_dtypes = [d.dtype for d in data]
    n, step = data[0].shape[axis], 1
    position = np.arange(n).reshape([n if k == axis else 1 for k in range(data[0].ndim)])
    while step < n:
        # Whole blocks (a block's length must stay a power of 2): the first `step` elements have
        # nothing that far before them; what the call makes of them is thrown away.
        earlier = [np.roll(d, step, axis=axis) for d in data]
        result = combine(*[ops.to_tensor(x, t) for x, t in zip(earlier, dtypes)], *[ops.to_tensor(x, t) for x, t in zip(data, dtypes)])
        combined = _as_arrays(result, data[0].shape, np_dtypes)
        data = [np.where(position >= step, c, d) for c, d in zip(combined, data)]
        step *= 2
    return [ops.to_tensor(np.ascontiguousarray(d), t) for d, t in zip(data, dtypes)]


def install() -> None:
    """Route the interpreter's element-by-element fallbacks through the tree versions."""
    from triton.runtime import interpreter

    reduce_ops, scan_ops = getattr(interpreter, "ReduceOps", None), getattr(interpreter, "ScanOps", None)
    if reduce_ops is not None and hasattr(reduce_ops, "generic_reduce") and hasattr(reduce_ops, "unravel"):
        reduce_ops.generic_reduce = _with_fallback(reduce_ops.generic_reduce, tree_reduce)
    if scan_ops is not None and hasattr(scan_ops, "generic_scan"):
        scan_ops.generic_scan = _with_fallback(scan_ops.generic_scan, tree_scan)


class _ScalarsOnly(Exception):
    """The combine function branches on its operands' values: it needs one element at a time."""


@contextlib.contextmanager
def _blocks_refuse_truth() -> Iterator[None]:
    """The interpreter calls any block true (`if a > b:` on blocks is always taken), so a combine
    function that branches on its operands would be silently wrong on whole blocks; make that
    branch raise instead, for the fold to take over."""
    import triton.language as tl

    current = tl.core.tensor.__bool__

    def truth(self: Any) -> bool:
        data = getattr(getattr(self, "handle", None), "data", None)
        if data is not None and getattr(data, "size", 1) > 1:
            raise _ScalarsOnly
        return current(self)

    tl.core.tensor.__bool__ = truth
    try:
        yield
    finally:
        tl.core.tensor.__bool__ = current


def _with_fallback(element_wise: Callable[[Any, Any], Any], tree: Callable[[Any, Any, Combine], Any]) -> Callable[[Any, Any], Any]:
    def generic(self: Any, input: Any) -> Any:
        try:
            with _blocks_refuse_truth():
                return tree(self, input, self.combine_fn.fn)
        except Exception:  # noqa: BLE001 - a combine written for scalars only: the interpreter's own fold
            return element_wise(self, input)

    return generic
