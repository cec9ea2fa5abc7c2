"""What a round tries: the configuration space of each candidate, chosen from the family, the
sizes, the lessons in memory and the last profile. Deterministic in the run state, so the
planner (which explains it) and the coder (which builds it) always agree.

- CPU (Triton's interpreter): one config per candidate, big blocks; the next round rotates.
- GPU, round 1: the lessons' configs, then the `first` space for the sizes, autotuned in one
  candidate (each GPU check costs ~a minute, so several configs are measured per check).
- GPU, later rounds: the profile picks the space: memory-bound -> bigger blocks and more work
  per program; compute-bound -> tile shapes and pipeline depth; register spills -> smaller
  neighbours. Configs tried in earlier candidates and failed ideas from memory are left out;
  the graph keeps the best measured candidate.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from pydantic import JsonValue

from kernelwright.agents.expert.configs import (
    Config,
    cpu_configs,
    dedupe,
    heavy_epilogue,
    sizes_of,
    spaces_for,
    split_heavy,
)
from kernelwright.agents.expert.lessons import UsableLesson, usable_lessons
from kernelwright.agents.records import KernelFacts, Profile
from kernelwright.agents.records.run_state import RunState

MAX_CONFIGS = 8  # per autotuned candidate: each config is compiled and benchmarked on the GPU
NEAR_SOL = 0.85


@dataclasses.dataclass
class CandidatePlan:
    configs: list[Config]
    space: str
    lessons: list[UsableLesson]


@dataclasses.dataclass
class RoundPlan:
    candidates: list[CandidatePlan]
    reason: str
    avoided: list[UsableLesson] = dataclasses.field(default_factory=list)
    profile_note: str = ""


def _num(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


_SPILLED = re.compile(r"(\d+) B spilled|(\d+) local-memory instructions")


def spilled(profile: Profile) -> int:
    """Spilled bytes (or local-memory instructions) the profile reports for the kernel; 0 if none."""
    found = [int(a or b) for a, b in _SPILLED.findall(profile.diagnosis or "")]
    resources = profile.resources
    for entry in resources if isinstance(resources, list) else [resources] if isinstance(resources, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("spills"), int):
            found.append(entry["spills"])
    return max(found, default=0)


@dataclasses.dataclass(frozen=True)
class ProfileReading:
    """What the expert reads from the last profile (None where it was not measured)."""

    bound: JsonValue = None  # "memory" | "compute", as the roofline says
    t_sol_ms: float | None = None
    median_ms: float | None = None
    sol_fraction: float | None = None
    spills: int = 0
    diagnosis: str = ""


def read_profile(profile: Profile | None) -> ProfileReading:
    profile = profile or Profile()
    roof = profile.roofline or {}
    timing = profile.timing or {}
    candidate = timing.get("candidate")
    median = _num(candidate.get("median_ms") if isinstance(candidate, dict) else None) or _num(roof.get("measured_ms"))
    sol = _num(roof.get("t_sol_ms"))
    return ProfileReading(bound=roof.get("bound"), t_sol_ms=sol, median_ms=median, sol_fraction=sol / median if sol and median else None,
                          spills=spilled(profile), diagnosis=profile.diagnosis or "")


def space_order(family: str, info: ProfileReading, first_round: bool) -> tuple[list[str], str]:
    """The named spaces to try next, best first, and why."""
    if first_round or info.median_ms is None:
        return ["first", "compute" if family in ("matmul", "conv") else "memory", "neighbours"], \
            "no timing yet: the space the sizes suggest"
    frac = info.sol_fraction
    at = f"{100 * frac:.0f}% of speed-of-light" if frac else "unknown % of speed-of-light"
    if info.spills:
        return ["neighbours", "memory", "compute"], f"the kernel spills registers ({info.spills}; {at}): smaller neighbours"
    if frac is not None and frac >= NEAR_SOL:
        return ["neighbours"], f"{at}: close to the roofline, one neighbour space at most"
    if info.bound == "compute":
        return ["compute", "neighbours", "memory"], f"compute-bound at {at}: tile shapes and pipeline depth"
    if info.bound == "memory":
        return ["memory", "neighbours", "compute"], f"memory-bound at {at}: bigger blocks, more work per program"
    return ["neighbours", "memory", "compute"], f"{at}: neighbouring configurations"


def kernel_facts(family: str, configs: list[Config]) -> KernelFacts:
    """What a generated candidate is made of, as its record carries it to the check and the debugger."""
    return KernelFacts(family=family, configs=tuple(dataclasses.asdict(c) for c in configs))


def configs_of(facts: KernelFacts | None) -> list[Config]:
    return [Config(**c) for c in facts.configs] if facts else []


def tried_configs(state: RunState) -> set[Config]:
    out: set[Config] = set()
    for a in state.get("attempts") or []:
        out.update(configs_of(a.kernel))
    return out


def plan_round(t, state: RunState, device: str, arch: str | None, memory: Any, k: int = 1) -> RoundPlan:
    sizes = sizes_of(t)
    iteration = max(int(state.get("iteration") or 1), 1)
    k = max(1, k)
    if device == "cpu":
        configs = cpu_configs(t.family, sizes)
        start = (iteration - 1) * k
        if any(a.accepted for a in state.get("attempts") or []):
            # Nothing is timed on the CPU, so another config could not be shown to be better.
            return RoundPlan([], "no timing on the CPU: the accepted solution stands")
        tried = tried_configs(state)  # nothing is checked twice
        rotation = [configs[(start + i) % len(configs)] for i in range(len(configs))]
        picks = [c for c in dedupe(rotation) if c not in tried][:k]
        return RoundPlan([CandidatePlan([c], "cpu", []) for c in picks],
                         "Triton's interpreter: one config per candidate, big blocks (few program instances)")
    apply, avoid = usable_lessons(memory, t.family, arch or "sm_90", t.dtype, sizes, problem.name if (problem := state.get("problem")) else None)
    if heavy_epilogue(t):  # lessons' tiles get the same epilogue split as the spaces' own
        apply = [dataclasses.replace(x, configs=tuple(split_heavy(c) for c in x.configs)) for x in apply]
        avoid = [dataclasses.replace(x, configs=tuple(split_heavy(c) for c in x.configs)) for x in avoid]
    avoided = {c for lesson in avoid for c in lesson.configs}
    tried = tried_configs(state)
    info = read_profile(state.get("profile"))
    first_round = not any(a.accepted for a in state.get("attempts") or [])
    order, reason = space_order(t.family, info, first_round)
    spaces = spaces_for(t)
    lesson_configs = [c for lesson in apply for c in lesson.configs]
    candidates: list[CandidatePlan] = []
    used: set[Config] = set(tried) | avoided
    for name in order:
        if len(candidates) >= k:
            break
        pool = (lesson_configs if not candidates else []) + spaces[name]
        configs = [c for c in dedupe(pool) if c not in used][:MAX_CONFIGS]
        if not configs:
            continue
        used.update(configs)
        chosen = set(configs)
        applied = [lesson for lesson in apply if chosen.intersection(lesson.configs)]
        candidates.append(CandidatePlan(configs, name, applied))
    note = ""
    if info.median_ms is not None:
        note = f"last profile: median {info.median_ms:.4g} ms"
        if info.t_sol_ms:
            note += f", speed-of-light {info.t_sol_ms:.4g} ms ({info.bound or 'unknown'}-bound)"
        if info.diagnosis:
            note += f"; diagnosis: {info.diagnosis[:200]}"
    return RoundPlan(candidates, reason, avoid, note)
