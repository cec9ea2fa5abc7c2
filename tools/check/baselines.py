"""The baselines a candidate is timed against: which ones a check times, and the cache of the
torch.compile ones.

Eager is timed on every check (it brackets the candidate for the noise floor). The torch.compile
baselines (default, and max-autotune without CUDA graphs) cost tens of seconds to compile, so
each is timed once per (problem source, precision, mode, GPU, driver, torch, Triton, CUDA) and
cached in HOME/baselines.json, each under its own name. `compile_baselines` (check option,
`--baselines`) selects which are timed; the others are reported as null with the reason.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from kernelwright.tools.problem import InputError
from kernelwright.tools.sandbox.child import run_child
from kernelwright.tools.sandbox.mounts import Mounts
from kernelwright.tools.sealed import read_cache, seal, unseal

if TYPE_CHECKING:
    from kernelwright.tools.worker.baselines import BaselineError
    from kernelwright.tools.worker.timing import StatsJson

BASELINES = ("eager", "compile", "compile_max_autotune")
COMPILE_BASELINES = ("compile", "compile_max_autotune")
MIN_BASELINE_TIMEOUT_S = 900.0  # max-autotune compiles can take minutes


def parse_baselines(text: str) -> tuple[str, ...]:
    """`--baselines eager,compile`: the torch.compile baselines to time (eager is always timed:
    it brackets the candidate for the noise floor)."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in BASELINES]
    if unknown or not names:
        raise InputError(f"--baselines {text}: expected a comma-separated list of {', '.join(BASELINES)}")
    return tuple(n for n in COMPILE_BASELINES if n in names)


def selected_compile_baselines(opts: Any) -> tuple[str, ...]:
    """The check option `compile_baselines`, validated (a config file may name anything)."""
    names = opts.compile_baselines
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise InputError(f"compile_baselines {list(names)}: unknown {unknown}; expected some of {', '.join(COMPILE_BASELINES)}")
    return tuple(n for n in COMPILE_BASELINES if n in names)


def _baseline_cache_key(problem: Any, device_facts: dict[str, str], opts: Any) -> str:
    raw = json.dumps([problem.file.sha256, opts.precision, opts.mode, device_facts], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _read_answer(path: Path) -> dict[str, StatsJson | BaselineError]:
    """The baselines child's answer (baseline -> its statistics or its error); {} when it wrote
    none, or none of this shape (it ran the problem's code)."""
    from kernelwright.tools.worker.baselines import BaselineError
    from kernelwright.tools.worker.timing import StatsJson

    try:
        return TypeAdapter(dict[str, StatsJson | BaselineError]).validate_json(path.read_text())
    except (OSError, ValidationError):
        return {}


def _unsealed(entries: object) -> dict[str, StatsJson | BaselineError]:
    """The cache's entries of one key that still match their digests."""
    found = {n: unseal(entry) for n, entry in entries.items()} if isinstance(entries, dict) else {}
    return {n: value for n, value in found.items() if value is not None}


def compiled_baselines(problem: Any, device: str, opts: Any, workdir: Path, facts: dict[str, str], pool_seeds: list[int], names: tuple[str, ...]) -> tuple[dict[str, StatsJson | BaselineError], bool]:
    """Stats (or {"error"}) per selected baseline, and whether all came from the cache. Each
    baseline is cached on its own under the problem/precision/mode/device/versions key, so
    selecting fewer never hides one and selecting more times only the missing ones."""
    cache_path = (opts.home / "baselines.json") if opts.home else None
    key = _baseline_cache_key(problem, facts, opts)
    known = _unsealed(read_cache(cache_path).get(key))
    missing = [n for n in names if n not in known]
    if missing:
        opts.say(f"timing: baselines {', '.join(missing)} (torch.compile; cached afterwards)")
        result_path = workdir / "baselines.result.json"
        request = workdir / "baselines.request.json"
        request.write_text(json.dumps({
            "problem_path": str(problem.path), "problem_source": problem.file.source, "device": device, "precision": opts.precision,
            "pool_seeds": pool_seeds, "baselines": missing, "result_path": str(result_path),
        }))
        timeout = max(opts.timeout_s, MIN_BASELINE_TIMEOUT_S) * len(missing)
        child = run_child(["kernelwright.tools.worker", "baselines", str(request)], workdir, timeout, log_name="baselines",
                          mounts=Mounts(readable=(Path(problem.path),)), device=device)
        found = _read_answer(result_path)
        for n in missing:
            if n not in found or (child.timed_out and "error" in found[n]):
                found[n] = {"error": f"timing {n} failed: " + ("timed out" if child.timed_out else child.signal_name or "no result")}
        if cache_path:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            cache = read_cache(cache_path)  # again: another check may have written meanwhile
            before = cache.get(key)
            cache[key] = {**(before if isinstance(before, dict) else {}), **{n: seal(found[n]) for n in missing}}
            tmp = cache_path.with_name(cache_path.name + f".{secrets.token_hex(4)}.tmp")
            tmp.write_text(json.dumps(cache, indent=2))
            tmp.replace(cache_path)
        known = {**known, **{n: found[n] for n in missing}}
    return {n: known[n] for n in names}, not missing
