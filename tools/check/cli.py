"""`kernelwright check`: the verify pipeline on one solution file; registers `profile` beside it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kernelwright.tools.check.settings import CheckSettings
from kernelwright.tools.home import resolve_home
from kernelwright.tools.problem import InputError


def add_check_parser(sub: argparse._SubParsersAction) -> None:
    """The tools' commands: `check` here, `profile` from `profile_cli` (kernelwright/cli.py calls this once)."""
    from kernelwright.tools.profile.cli import add_profile_parser

    _add_check(sub)
    add_profile_parser(sub)


def _add_check(sub: argparse._SubParsersAction) -> None:
    defaults = CheckSettings()  # the same defaults as a run's config `check:` section
    p = sub.add_parser(
        "check",
        help="verify one solution against one problem (strict protocol)",
        description="Run the evaluation protocol on SOLUTION for PROBLEM. Exit 0 accepted, 1 rejected, 2 bad input.",
    )
    p.add_argument("problem", help="KernelBench-format problem file (class Model, get_inputs, get_init_inputs)")
    p.add_argument("solution", help="solution file (class ModelNew)")
    p.add_argument("--device", default=defaults.device, help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--timeout", type=float, default=defaults.timeout_s, help=f"seconds each sandboxed step may take (default {defaults.timeout_s:g}; the reference's trials at least 60)")
    p.add_argument("--seed", type=int, default=defaults.seed, help=f"seed of the first trial; the others are secret (default {defaults.seed})")
    p.add_argument("--trials", type=int, default=defaults.trials, help=f"trials at the shipped sizes (default {defaults.trials}, at least 1)")
    p.add_argument("--mode", choices=["strict", "compat"], default=defaults.mode, help="strict (default) or KernelBench-compatible")
    p.add_argument("--precision", choices=["fp32", "fp16", "bf16", "tf32"],
                   help="cast floating inputs and weights to fp32/fp16/bf16 (default: as the problem gives them); tf32 keeps fp32 "
                        "but allows TF32 matmul operands (reported, judged with the 16-bit tolerance)")
    p.add_argument("--sizes", choices=["auto", "full"], default=defaults.sizes,
                   help="on the CPU: auto (default) runs the problem's CPU_SIZES or an automatic reduction of its sizes "
                        "(reported); full runs the sizes the file gives")
    p.add_argument("--no-variants", action="store_true", help="skip the shape-variant trials")
    p.add_argument("--allow-torch-ops", action="store_true", help="allow aten compute ops in the forward")
    p.add_argument("--no-timing", action="store_true", help="on a GPU, check correctness only")
    p.add_argument("--baselines", help="on a GPU, the baselines to time, comma-separated from eager, compile, compile_max_autotune "
                   "(default: all; eager is always timed: it brackets the candidate for the noise floor)")
    p.add_argument("--home", help="kernelwright home (caches of baselines and device peaks)")
    p.add_argument("--keep-workdir", action="store_true", help="keep the sandbox's files (for debugging)")
    p.add_argument("--require-isolation", action="store_true",
                   help="refuse to run (exit 2) unless every sandbox layer is active (see `kernelwright doctor`)")
    p.add_argument("--memory-gb", type=float, help="address-space cap of each sandboxed child on the CPU (default: half of this machine's memory)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    from kernelwright.tools.check.baselines import parse_baselines
    from kernelwright.tools.check.verify import CheckOptions, verify_solution

    if args.trials < 1:
        raise InputError("--trials must be at least 1")
    if args.memory_gb is not None and args.memory_gb <= 0:
        raise InputError("--memory-gb must be a positive number of GiB")
    from kernelwright.tools.sandbox.policy import SandboxPolicy
    opts = CheckOptions(
        device=args.device,
        timeout_s=args.timeout,
        seed=args.seed,
        trials=args.trials,
        variants=not args.no_variants,
        mode=args.mode,
        allow_torch_ops=args.allow_torch_ops,
        precision=args.precision,
        sizes=args.sizes,
        timing=not args.no_timing,
        **({"compile_baselines": parse_baselines(args.baselines)} if args.baselines is not None else {}),
        home=resolve_home(args.home),
        keep_workdir=args.keep_workdir,
        sandbox=SandboxPolicy(require_full=args.require_isolation, memory_gb=args.memory_gb),
        progress=lambda msg: print(f"kernelwright: {msg}", file=sys.stderr, flush=True),
    )
    result = verify_solution(args.problem, args.solution, opts)
    if args.json:
        from kernelwright.tools.output import print_json

        print_json(result.to_dict())
    else:
        _print_check(result)
    return 0 if result.accepted else 1


def _print_check(result: Any) -> None:
    lines = [f"verdict: {result.verdict}  ({result.device}, {result.mode}, {result.wall_s:.1f}s)"]
    for r in result.reasons:
        lines.append(f"  - [{r.check}] {r.message.splitlines()[0] if r.message else ''}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    if result.trials:
        ok = sum(t["ok"] for t in result.trials)
        lines.append(f"trials: {ok}/{len(result.trials)} passed; max abs err {result.max_abs_err}; rel err {result.rel_err}")
    tol = result.tolerance or {}
    if tol.get("reason"):  # a problem's reviewed sidecar widened the protocol's tolerance: say so
        lines.append(f"tolerance from {tol['source']}: atol {tol['atol']:g}, rtol {tol['rtol']:g} ({tol['reason'].splitlines()[0]})")
    if result.weights_aligned is not None:
        lines.append(f"weights aligned with the reference: {result.weights_aligned}")
    if result.timing:
        t = result.timing
        lines.append(f"candidate median {t['candidate']['median_ms']:.4f} ms (noise floor {t.get('noise_floor', 0):.1%})")
    if result.speedup:
        lines.append("speedup: " + ", ".join(f"{k} {v:.2f}x" for k, v in result.speedup.items()))
    for name, why in ((result.timing or {}).get("baselines_skipped") or {}).items():
        lines.append(f"baseline {name} not timed: {why}")
    if result.isolation:
        iso = result.isolation
        lines.append(f"sandbox: {iso['tool'] or 'no OS sandbox'} ({', '.join(iso['layers'])})")
        for missing in iso["missing"]:
            lines.append(f"  sandbox layer missing: {missing}")
    if result.resources:
        for r in result.resources:
            lines.append(f"sm_90 {r.get('kernel')}: {r.get('registers')} regs, {r.get('spills')} spills, {r.get('shared_bytes')} B shared")
    print("\n".join(lines), file=sys.stderr)
