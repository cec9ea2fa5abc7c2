"""`kernelwright profile`: the best profile this machine can give of a solution (or the reference)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kernelwright.tools.home import resolve_home
from kernelwright.tools.problem import InputError

if TYPE_CHECKING:
    from kernelwright.tools.profile.report import ProfileReport


def add_profile_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profile",
        help="profile one solution (or the reference) with the best tier available",
        description="Profile SOLUTION (or, with --reference, the problem's own Model) on this machine: tier 1 Nsight "
        "Compute, tier 2 timeline (torch.profiler, CUDA events), tier 3 static (sm_90 compile); plus the roofline and a "
        "diagnosis. Exit 0 profiled, 1 the forced tier failed, 2 bad input.",
    )
    p.add_argument("problem", help="KernelBench-format problem file (class Model, get_inputs, get_init_inputs)")
    p.add_argument("solution", nargs="?", help="solution file (class ModelNew); omit with --reference")
    p.add_argument("--reference", action="store_true", help="profile the problem's reference Model instead of a solution")
    p.add_argument("--tier", type=int, choices=[1, 2, 3], help="use only this tier (default: the best available)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds each sandboxed step may take (default 300)")
    p.add_argument("--home", help="kernelwright home (cache of measured device peaks)")
    p.add_argument("--keep-workdir", action="store_true", help="keep the sandbox's files (ncu report, traces)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=_cmd_profile)


def _cmd_profile(args: argparse.Namespace) -> int:
    from kernelwright.tools.profile.tiers import ProfileOptions, profile_solution

    if args.reference == bool(args.solution):
        raise InputError("give a SOLUTION file or --reference (to profile the problem's Model), not both or neither")
    opts = ProfileOptions(
        device=args.device,
        tier=args.tier,
        timeout_s=args.timeout,
        home=resolve_home(args.home),
        keep_workdir=args.keep_workdir,
        progress=lambda msg: print(f"kernelwright: {msg}", file=sys.stderr, flush=True),
    )
    profile = profile_solution(args.problem, None if args.reference else args.solution, opts)
    if args.json:
        from kernelwright.tools.output import print_json

        print_json(profile)
    else:
        print(human_profile(profile), file=sys.stderr)
    return 0 if profile["tier"] else 1


def _num(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}g}"


def human_profile(p: ProfileReport) -> str:
    tier = f"tier {p['tier']} ({p['tier_name']})" if p["tier"] else "no tier succeeded"
    lines = [f"profile: {tier} of the {p['subject']} on {p['device']}" + (f" ({p['gpu']})" if p.get("gpu") else ""),
             f"diagnosis: {p['diagnosis']}"]
    roof = p.get("roofline")
    if roof:
        lines.append(f"roofline: {roof['bytes']} bytes, {roof['flops']} flops -> SoL {_num(roof['t_sol_ms'])} ms "
                     f"({roof['bound']}-bound; {roof['peaks']['gpu']}, {roof['peaks']['source']})"
                     + (f"; measured {_num(roof['measured_ms'])} ms = {roof['pct_of_sol']:.0f}% of SoL" if roof.get("measured_ms") else ""))
    m = p.get("metrics") or {}
    for k in (m.get("kernels") or [])[:8]:
        name = k.get("name") or k.get("kernel")
        if p["tier"] == 1:
            lines.append(f"  {name}: {_num(k.get('duration_ns', 0) / 1000)} us, DRAM {_num(k.get('dram_pct'), 3)}%, "
                         f"SM {_num(k.get('sm_pct'), 3)}%, {_num(k.get('registers_per_thread'))} regs, occupancy "
                         f"{_num(k.get('achieved_occupancy_pct'), 3)}% of {_num(k.get('theoretical_occupancy_pct'), 3)}%")
        elif p["tier"] == 2:
            lines.append(f"  {k['short_name']}{' (own)' if k['own'] else ''}: {_num(k['mean_us'])} us x {_num(k['launches_per_call'])}/call, "
                         f"{_num(k['share_pct'], 3)}% of GPU time, streams {k['streams']}")
        elif k.get("error"):
            lines.append(f"  {name}: {k['error']}")
        else:
            lines.append(f"  {name}: {k['registers_per_thread']} regs, {k['spills_bytes']} B spilled, {k['shared_bytes']} B shared, "
                         f"{k['num_warps']} warps, occupancy {k['theoretical_occupancy_pct']:.0f}% ({k['occupancy_limiter'] or 'not limited'})")
    lines += [f"not measured: {why}" for why in p.get("missing") or []]
    return "\n".join(lines)
