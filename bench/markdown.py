"""The bench's Markdown report: one table row per problem, then the fast_p summary."""

from __future__ import annotations

from kernelwright.bench.meta import BenchMeta
from kernelwright.bench.records import BenchResult
from kernelwright.bench.scoring import P_VALUES, BenchSummary, p_key

BASELINE_TITLES = {"eager": "eager", "compile": "torch.compile", "compile_max_autotune": "max-autotune"}


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else "–"


def _note(r: BenchResult) -> str:
    text = r.unsupported or r.error or ""
    text = " ".join(str(text).split())
    return (text[:117] + "...") if len(text) > 120 else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_report(meta: BenchMeta, results: list[BenchResult], summary: BenchSummary) -> str:
    baselines = list(summary.fast_p)
    versions = meta.versions or {}
    lines = [
        f"# kernelwright bench `{meta.bench_id}`",
        "",
        f"Suite `{meta.dir}` ({summary.planned} problems), policy {meta.options.policy or 'auto'}, "
        f"device {meta.device}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v)
        + f"; started {meta.started or '?'}.",
        "",
        "| problem | accepted | verdict | " + " | ".join(f"× {BASELINE_TITLES[b]}" for b in baselines)
        + " | % SoL | tokens | cost $ | wall s | note |",
        "|---|---|---|" + "---|" * len(baselines) + "---|---|---|---|---|",
    ]
    for r in results:
        speed = r.speedup or {}
        verdict = "unsupported" if r.unsupported else (r.verdict or ("error" if r.error else "–"))
        lines.append(
            f"| {r.problem} | {'yes' if r.accepted else 'no'} | {verdict} | "
            + " | ".join(_num(speed.get(b)) for b in baselines)
            + f" | {_num(r.pct_sol, '{:.1f}')} | {r.tokens or 0} | {_num(r.cost_usd, '{:.4f}')} | {_num(r.wall_s, '{:.0f}')} | {_cell(_note(r))} |"
        )
    s = summary
    rate = s.accepted_rate
    lines += [
        "",
        "## Summary",
        "",
        f"- accepted: {s.accepted} of {s.problems} ({_num(rate * 100 if rate is not None else None, '{:.1f}')}%); "
        f"no kernel from the policy: {s.unsupported}; errors: {s.errors}",
        "- geometric-mean speedup over accepted and timed problems: "
        + ", ".join(f"{BASELINE_TITLES[b]} {_num(s.geomean_speedup[b])} ({s.timed[b]} timed)" for b in baselines),
        f"- median % of speed of light (accepted, timed): {_num(s.median_pct_sol, '{:.1f}')}",
        f"- tokens: {s.tokens}; cost: {_num(s.cost_usd, '${:.4f}') if s.cost_usd is not None else 'n/a (no price in llm.prices)'}; "
        f"wall time of all runs: {s.wall_s:.0f} s",
        "",
        "fast_p = share of all problems that are accepted and more than p times faster than the baseline:",
        "",
        "| p | " + " | ".join(f"vs {BASELINE_TITLES[b]}" for b in baselines) + " |",
        "|---|" + "---|" * len(baselines),
    ]
    for p in P_VALUES:
        lines.append(f"| {p_key(p)} | " + " | ".join(_num(s.fast_p[b][p_key(p)], "{:.3f}") for b in baselines) + " |")
    if s.notes:
        lines += [""] + [f"Note: {n}" for n in s.notes]
    return "\n".join(lines) + "\n"
