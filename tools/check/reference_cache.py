"""Reference outputs computed once per run and reused for every candidate of that run.

Every candidate of a run is checked on the same cases (the first seeded with --seed, the others
with secret seeds drawn once for the run: they never reach a prompt), so the reference's inputs,
weights and outputs are computed once: the reference child of later checks is not started at all
on the CPU. A cache hit must never change a verdict, so what is reused is verified first: every
cached file (the inputs and weights candidates read) by its SHA-256, and the reference outputs,
which live in this process only, by the SHA-256 of their bytes. A mismatch drops the entry, the
check computes the reference again, and the result says why (`reference_cache`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.tools.check.children import ReferenceOutputs
from kernelwright.tools.check.plan import VariantPlan
from kernelwright.tools.problem import Problem
from kernelwright.tools.worker.reference_protocol import ReferenceReport


@dataclasses.dataclass
class CachedReference:
    variants: list[VariantPlan]
    refs: ReferenceOutputs
    report: ReferenceReport
    shared: Path
    file_digests: dict[str, str]
    refs_digest: str


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def refs_digest(refs: ReferenceOutputs) -> str:
    """SHA-256 over every reference tensor's bytes (and shape and dtype), case by case."""
    import torch

    h = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            h.update(f"{tuple(value.shape)}{value.dtype}".encode())
            if value.numel():
                h.update(value.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(value, (list, tuple)):
            for v in value:
                feed(v)
        else:
            h.update(repr(value).encode())

    for case in sorted(refs):
        h.update(case.encode())
        feed(refs[case])
    return h.hexdigest()


class ReferenceCache:
    """One run's reference results, keyed by what determines them (problem text, sizes, device,
    precision, mode, trial counts). Thread-safe: a round's candidates are checked in parallel."""

    def __init__(self, root: Path | None = None) -> None:
        from kernelwright.tools.sandbox.child import scratch_root

        # Beside the check folders: a warm job can only be given what lies in its zygote's view.
        self.root = Path(tempfile.mkdtemp(prefix="kw-refcache-", dir=root or scratch_root()))
        self._plans: dict[str, list[VariantPlan]] = {}
        self._entries: dict[str, CachedReference] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(problem: Problem, device: str, opts: Any) -> str:
        parts = {"source": problem.file.source, "device": device, "precision": opts.precision, "mode": opts.mode,
                 "trials": opts.trials, "variant_trials": opts.variant_trials, "variants": opts.variants, "seed": opts.seed,
                 # The CPU sizes and the tolerances the stress trials' scales are chosen with.
                 "sizes": getattr(opts, "sizes", None), "tolerances": getattr(opts.tolerances, "table", None)}
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def plan(self, key: str, make: Callable[[], list[VariantPlan]]) -> list[VariantPlan]:
        """The run's cases for `key`: made (with fresh secret seeds) the first time only (frozen
        records: every check of the run reads the same ones)."""
        with self._lock:
            if key not in self._plans:
                self._plans[key] = make()
            return list(self._plans[key])

    def get(self, key: str) -> tuple[CachedReference | None, str | None]:
        """(the verified entry, None), (None, None) on a miss, or (None, why) when the entry was
        found changed and dropped."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None, None
        for name, digest in entry.file_digests.items():
            path = entry.shared / name
            if not path.exists() or _file_digest(path) != digest:
                return self._drop(key, f"cached file {name} changed since it was written")
        if refs_digest(entry.refs) != entry.refs_digest:
            return self._drop(key, "cached reference outputs changed since they were computed")
        return entry, None

    def _drop(self, key: str, why: str) -> tuple[None, str]:
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is not None:
            shutil.rmtree(entry.shared, ignore_errors=True)
        return None, why

    def put(self, key: str, variants: list[VariantPlan], refs: ReferenceOutputs, report: ReferenceReport, shared: Path) -> None:
        """Keep what a check's reference child made: its shared files (hard links, so the check's own
        folder can go) and its outputs."""
        with self._lock:
            if key in self._entries:
                return
            target = self.root / key
            target.mkdir()
            digests = {}
            for path in sorted(shared.iterdir()):
                try:
                    os.link(path, target / path.name)
                except OSError:  # another file system: copy
                    shutil.copyfile(path, target / path.name)
                digests[path.name] = _file_digest(target / path.name)
            self._entries[key] = CachedReference(variants, refs, report, target, digests, refs_digest(refs))

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
