"""The expert policy's four roles: deterministic, no LLM.

- planner: traces the problem, names the family and the configurations this round tries, and
  which lessons from memory (id and title) chose them;
- coder: compiles the traced graph to Triton, one candidate per planned space (several configs
  autotuned on a GPU, one config on the CPU); each candidate carries `applied_lessons`; raises
  UnsupportedProblem, naming the operations, for the rest;
- debugger: known repairs for known failures (see `repairs`), else nothing;
- analyst: a BOTTLENECK / EVIDENCE / NEXT MOVES reading of the last profile, naming the space
  the next round will try.
"""

from __future__ import annotations

from pathlib import Path

from kernelwright.agents.expert.ir import UnsupportedProblem
from kernelwright.agents.expert.repairs import repair
from kernelwright.agents.expert.solution import generate
from kernelwright.agents.expert.tracing import Traced, trace_problem
from kernelwright.agents.expert.tuning import (
    RoundPlan,
    configs_of,
    kernel_facts,
    plan_round,
    read_profile,
    space_order,
)
from kernelwright.agents.records import Candidate, NextStep, Plan, StepKind
from kernelwright.agents.records.run_state import RunState


def _device(ctx) -> str:
    check = getattr(ctx, "check", None)  # None: a context without check options (auto, as CheckOptions' default)
    device = check.device if check is not None else "auto"
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return "cpu" if device.startswith("cpu") else "cuda"


def _arch(device: str) -> str | None:
    """The GPU architecture lessons are filtered on: the device's own, else sm_90 (the project's
    static target); None on the CPU, where GPU tuning lessons do not apply."""
    if device == "cpu":
        return None
    try:
        import torch

        if torch.cuda.is_available():
            major, minor = torch.cuda.get_device_capability()
            return f"sm_{major}{minor}"
    except Exception:  # noqa: BLE001 - fall back to the static target
        pass
    return "sm_90"


def _source(state: RunState) -> str:
    problem = state["problem"]
    return problem.source or Path(problem.path).read_text()


def _problem_text(state: RunState, device: str) -> str:
    """The problem source at the sizes this device runs (its CPU_SIZES on the CPU)."""
    if device != "cpu":
        return _source(state)
    from kernelwright.tools.problem import load_problem, sized_for_device

    return sized_for_device(load_problem(state["problem"].path), "cpu").file.source


def _trace(state: RunState, ctx) -> Traced:
    return trace_problem(state["problem"].path, source=_problem_text(state, _device(ctx)))


def _plan(state: RunState, ctx, t: Traced) -> RoundPlan:
    device = _device(ctx)
    k = max(1, int(getattr(ctx, "candidates", 1) or 1))
    return plan_round(t, state, device, _arch(device), getattr(ctx, "memory", None), k)


def _describe(t: Traced, configs, device: str) -> str:
    c = configs[0]
    many = f"{len(configs)} configs autotuned on the sizes" if len(configs) > 1 else c.text(t.family)
    if t.family == "matmul":
        s = t.main_shape
        mm = t.matmul
        how = "A's leading dims folded into M" if mm.folded else "batched over grid axis 1"
        return (f"matmul ({mm.label}) with its elementwise epilogue fused before the store: output {list(s)}, K={t.matmul_k}, "
                f"{t.dtype} ({'tensor cores, fp32 accumulation' if t.dtype != 'fp32' else 'fp32 products'}), {how}, "
                f"grouped tile order; {many}")
    if t.family == "conv":
        cv = t.conv
        kind = "transposed convolution (gathered)" if cv.transposed else "convolution"
        return (f"implicit-GEMM direct {cv.nd}-d {kind} ({cv.label}) with its elementwise epilogue fused before the store: "
                f"output {list(t.main_shape)}, GEMM M={cv.m} N={cv.n} (a group's output channels) K={cv.k}, {t.dtype}, "
                f"fp32 accumulation; {many}")
    if t.family == "elementwise":
        return f"elementwise chain fused into one kernel over a flat grid; every operand read once, the output written once; {many}"
    n_cols = t.main_shape[-1] if t.main_shape else 1
    return (f"last-dim row kernel: one program per row of {n_cols}, {t.reductions} reduction(s) in dependency passes "
            f"(rows longer than BLOCK loop over chunks); {many}")


def planner(state: RunState, ctx) -> RunState:
    try:
        t = _trace(state, ctx)
    except UnsupportedProblem as exc:
        step = NextStep(kind=StepKind.UNSUPPORTED, change="the coder reports the unsupported operations and the run fails")
        return {"plan": Plan(text=f"STRATEGY: none: {exc}\nNEXT: {step.change}\nEXPECTED: no solution", next_step=step)}
    device = _device(ctx)
    rp = _plan(state, ctx, t)
    shape = "x".join(str(s) for s in t.main_shape)
    if not rp.candidates:
        why = rp.reason if device == "cpu" else "every planned configuration was tried"
        step = NextStep(kind=StepKind.NOTHING_NEW, change="no candidate this round", reason=why)
        return {"plan": Plan(text=f"STRATEGY: {t.family}: nothing new to try ({why})\nNEXT: {step.change}\n"
                                  "EXPECTED: the best candidate so far stands", next_step=step)}
    first = rp.candidates[0]
    lines = [f"STRATEGY: {_describe(t, first.configs, device)} (shape {shape}, device {device}, traced with {t.tracer})"]
    for i, cand in enumerate(rp.candidates):
        lines.append(f"CANDIDATE {i}: space '{cand.space}': " + "; ".join(c.text(t.family) for c in cand.configs))
    # The configs tried, as fields: the memory files a measured change under `change`, in a form a
    # later run's expert can read back (agents/expert/lessons.py).
    knobs = tuple(c.text(t.family) for c in first.configs)
    step = NextStep(kind=StepKind.TRY_CONFIGS, change=f"space '{first.space}' ({rp.reason}): " + "; ".join(knobs),
                    space=first.space, reason=rp.reason, configs=knobs)
    lines.append(f"NEXT: {step.change}")
    if rp.profile_note:
        lines.append(f"PROFILE: {rp.profile_note}")
    expected = {"matmul": "tensor-core bound; at least cuBLAS plus a separate epilogue kernel",
                "conv": "compute-bound for wide channels; cuDNN plus separate epilogue kernels is the bar"}
    lines.append("EXPECTED: " + expected.get(t.family, "memory-bound; time close to bytes moved / bandwidth"))
    applied = {lesson.id: lesson for cand in rp.candidates for lesson in cand.lessons}
    if applied:
        lines.append("LESSONS APPLIED: " + "; ".join(
            f"{lesson.line()} -> {', '.join(c.text(t.family) for c in lesson.configs)}" for lesson in applied.values()))
    elif device != "cpu":
        lines.append("LESSONS APPLIED: none matched these conditions with configs the expert can read")
    if rp.avoided:
        lines.append("LESSONS AVOIDED (failed ideas): " + "; ".join(lesson.line() for lesson in rp.avoided))
    return {"plan": Plan(text="\n".join(lines), next_step=step)}


def coder(state: RunState, ctx) -> RunState:
    t = _trace(state, ctx)  # raises UnsupportedProblem, naming what has no kernel
    device = _device(ctx)
    text = _source(state)
    pending = []
    for i, cand in enumerate(_plan(state, ctx, t).candidates):
        ids = tuple(lesson.id for lesson in cand.lessons)
        src = generate(t, text, cand.configs, device, lessons=list(ids))
        pending.append(Candidate(id=f"r{state['iteration']}-c{i}", source=src, iteration=state["iteration"], applied_lessons=ids,
                                 kernel=kernel_facts(t.family, cand.configs)))
    return {"pending": pending}


def debugger(state: RunState, ctx) -> RunState:
    """Known repairs for the failed attempts' kernels, read from the attempt records (`kernel`:
    family and configs; `applied_lessons`), never from the generated files."""
    from kernelwright.agents.attempts import debuggable_attempts

    pending = []
    t = None
    for a in debuggable_attempts(state, ctx.budgets):
        configs = configs_of(a.kernel)
        if a.kernel is None or not configs:
            continue  # not an expert candidate: nothing known to repair
        message = " ".join(r.message for r in a.reasons)
        fix = repair(a.kernel.family, configs, a.verdict, message)
        if fix is None:
            continue  # no known repair: give up on this configuration
        t = t or _trace(state, ctx)
        src = generate(t, _source(state), fix.configs, _device(ctx), lessons=list(a.applied_lessons))
        tries = a.debug_tries + 1
        pending.append(Candidate(id=f"{a.candidate_id}-d{tries}", source=src, parent_id=a.candidate_id, origin="debug",
                                 iteration=state["iteration"], debug_tries=tries, applied_lessons=a.applied_lessons,
                                 repair=fix.what, kernel=kernel_facts(a.kernel.family, fix.configs)))
    return {"pending": pending}


def analyst(state: RunState, ctx) -> RunState:
    info = read_profile(state.get("profile"))
    median, sol = info.median_ms, info.t_sol_ms
    best = state.get("best")
    speed = (best.speedup if best else None) or {}
    evidence = []
    if median is not None:
        evidence.append(f"median {median:.4g} ms")
    if median and sol:
        evidence.append(f"speed-of-light {sol:.4g} ms ({100 * sol / median:.0f}% of SoL)")
    if speed:
        evidence.append("speedup " + ", ".join(f"{k} {v:.2f}x" for k, v in speed.items() if isinstance(v, (int, float))))
    spills = info.spills
    if spills:
        evidence.append(f"register spills {spills}")
    if info.diagnosis:
        evidence.append(f"diagnosis: {info.diagnosis[:200]}")
    family = best.kernel.family if best and best.kernel else "elementwise"
    order, why = space_order(family, info, median is None)
    if median is None:
        bottleneck = "unknown: no timing on this device (correctness only)"
        moves = ["keep the accepted configuration; time it on a GPU to tune the block sizes"]
    elif sol and sol / median >= 0.8:
        bottleneck = f"{info.bound or 'memory'}-bound and near speed-of-light"
        moves = [f"at most one more space ('{order[0]}'): {why}"]
    else:
        bottleneck = f"{info.bound or 'memory'}-bound, below speed-of-light"
        moves = [f"next space '{order[0]}': {why}"]
        if spills:
            moves.insert(0, "lower the block or tile size, or raise num_warps: registers spill")
    text = f"BOTTLENECK: {bottleneck}\nEVIDENCE: {'; '.join(evidence) or 'none'}\nNEXT MOVES: " + "; ".join(moves)
    return {"analysis": text}

