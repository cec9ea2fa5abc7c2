"""What the timing loop records around each timed call (outside the CUDA-event window): sampled
output values, a few whole outputs, reused output memory, calls without a launch of the
solution's own (`CallWatch`). Used by the candidate worker's timing (`candidate_timing`)."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

import torch
from typing_extensions import (
    TypedDict,  # pydantic reads it (the parent's records): typing's before 3.12 it cannot
)

from kernelwright.tools.check.guards import poison_
from kernelwright.tools.worker.output_capture import _cpu, _reshape, _untyped_storage, tensors_of

_index_select, _stack, _Tensor = torch.index_select, torch.stack, torch.Tensor


class TimedSamples(TypedDict):
    """Every timed call's values at the sampled positions (saved with torch.save, loaded by the
    parent with weights_only=True: plain containers only)."""

    positions: list[torch.Tensor]  # per output tensor, the flat positions read
    calls: list[tuple[int, int]]  # per call: (call index, input slot)
    values: list[torch.Tensor]  # per output tensor, the values read, stacked over the calls


# Only exact tensors, tuples and lists are walked, and tensors' methods are called through the
# class (`output_capture`): a tuple subclass's `__iter__` or an instance attribute `reshape` on an
# output would otherwise run the candidate's code here, after the window (red team pass 11).
_tensors = tensors_of


def storages(out: Any) -> set[int]:
    return {_untyped_storage(t).data_ptr() for t in _tensors(out)}


class CallWatch:
    """What the timing loop records around each call, always outside the CUDA-event window.

    - `sample`: every call's output read at the same `sample` secret random positions (all of them
      for smaller outputs), for the parent to compare with the reference: a call that skipped work
      is caught whichever call it was.
    - `keep`: the outputs of `keep` calls picked uniformly at random (reservoir sampling with the
      system's RNG), saved whole for the same re-check.
    - the outputs of the last `ring` calls stay referenced, so an honest implementation cannot get
      their memory back from the allocator: a call returning one of them is a result cache.
    - `launches` (a callable giving the solution's own launch count so far): calls that launched
      none of the solution's kernels.
    - `poison_released`: outputs it stops holding are filled with the poison pattern (`_release`).
    - outputs it stops holding are not dropped where it stops (outside the CUDA-event window): they
      wait in `retired` until `let_go`, which the timing loop calls inside the next call's window,
      so a finaliser of theirs (`weakref.finalize`, `__del__` of an object they carry) runs timed:
      work done there, such as the next call's answer, counts as that call's time.
    The positions come from a generator of this object's own, seeded from the system's RNG: not
    from torch's global RNG, whose state the candidate can read.
    """

    def __init__(self, keep: int = 0, ring: int = 0, sample: int = 0, launches: Callable[[], int] | None = None, poison_released: bool = False) -> None:
        self.poison_released = poison_released
        self.keep, self.kept, self.seen = keep, [], 0
        self._rng = random.SystemRandom()
        self.sample = sample
        self._gen = torch.Generator().manual_seed(self._rng.getrandbits(62))
        self.layout: list[tuple[tuple[int, ...], torch.dtype]] | None = None
        self.positions: list[torch.Tensor] = []
        self.samples: list[tuple[int, int, list[torch.Tensor]]] = []
        self.malformed: list[int] = []
        self.recent: deque[Any] = deque(maxlen=ring)
        self.recent_storages: deque[set[int]] = deque(maxlen=ring)
        self.reused: list[int] = []
        self.input_storages: set[int] = set()  # an output may alias an input buffer: that is no cache
        self.launches = launches
        self.without_own_launch: list[int] = []
        self._before = 0
        self.retired: list[Any] = []  # let go of, not yet dropped (`let_go`)

    def before(self) -> None:
        if self.launches:
            self._before = self.launches()

    def after(self, index: int, slot: int, out: Any) -> None:
        if self.launches and self.launches() == self._before:
            self.without_own_launch.append(index)
        if self.sample:
            self._read_sample(index, slot, out)
        dropped = []
        if self.recent.maxlen:
            now = storages(out) - self.input_storages
            if any(now & held for held in self.recent_storages):
                self.reused.append(index)
            if len(self.recent) == self.recent.maxlen:
                dropped.append(self.recent[0])
            self.recent.append(out)
            self.recent_storages.append(now)
        if self.keep:
            if len(self.kept) < self.keep:
                self.kept.append((slot, index, out))
            else:
                j = self._rng.randrange(self.seen + 1)
                if j < self.keep:
                    dropped.append(self.kept[j][2])
                    self.kept[j] = (slot, index, out)
            self.seen += 1
        if self.poison_released:
            for old in dropped:
                self._release(old)
        self.retired.extend(dropped)

    def let_go(self) -> None:
        """Drop the outputs retired since the last call; the timing loop calls it inside a timed
        window (see the class's docstring)."""
        self.retired.clear()

    def _release(self, out: Any) -> None:
        """An output the watch lets go of (unless still held) is filled with the poison pattern,
        so memory the allocator hands out again never holds a right answer from an earlier call:
        a call that returns uninitialised memory instead of computing shows up as wrong."""
        held = [o for o in self.recent] + [o for _, _, o in self.kept]
        if any(o is out for o in held):
            return
        keep = self.input_storages | {s for o in held for s in storages(o)}
        for t in _tensors(out):
            if type(t) is _Tensor and _untyped_storage(t).data_ptr() not in keep:
                poison_(t)

    def _read_sample(self, index: int, slot: int, out: Any) -> None:
        tensors = _tensors(out)
        if type(out) not in (_Tensor, tuple, list) or not tensors:
            self.malformed.append(index)  # not plain tensors: never read (its code would answer the sampling)
            return
        layout = [(tuple(t.shape), t.dtype) for t in tensors]
        if self.layout is None:
            self.layout = layout
            self.positions = [self._pick_positions(t) for t in tensors]
        if layout != self.layout:
            self.malformed.append(index)  # another shape, dtype or structure than the first timed call
            return
        self.samples.append((index, slot, [_index_select(_reshape(t, -1), 0, p) for t, p in zip(tensors, self.positions)]))

    def _pick_positions(self, t: torch.Tensor) -> torch.Tensor:
        n = t.numel()
        picked = torch.arange(n) if n <= self.sample else torch.randint(n, (self.sample,), generator=self._gen)
        return picked.to(t.device)

    def sampled(self) -> TimedSamples | None:
        """The samples as CPU tensors: positions per output tensor, and per call its index, input
        slot and values (one tensor per output tensor, stacked over the calls)."""
        if not self.samples:
            return None
        return {
            "positions": [_cpu(p) for p in self.positions],
            "calls": [(index, slot) for index, slot, _ in self.samples],
            "values": [_cpu(_stack([values[k] for _, _, values in self.samples])) for k in range(len(self.positions))],
        }
