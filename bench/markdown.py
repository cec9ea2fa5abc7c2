"""The bench's Markdown report: one table row per problem, then the fast_p summary."""

from __future__ import annotations

from typing import Any

from kernelwright.bench.scoring import P_VALUES, p_key

BASELINE_TITLES = {"eager": "eager", "compile": "torch.compile", "compile_max_autotune": "max-autotune"}


def _num(value: Any, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else "–"


def _note(r: dict[str, Any]) -> str:
    text = r.get("unsupported") or r.get("error") or ""
    text = " ".join(str(text).split())
    return (text[:117] + "...") if len(text) > 120 else text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_report(meta: dict[str, Any], results: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    baselines = list(summary["fast_p"])
    versions = meta.get("versions") or {}
    lines = [
        f"# kernelwright bench `{meta['bench_id']}`",
        "",
        f"Suite `{meta['dir']}` ({summary['planned']} problems), policy {meta['options'].get('policy') or 'auto'}, "
        f"device {meta.get('device_label') or meta['device']}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v)
        + f"; started {meta.get('started', '?')}.",
        "",
        "| problem | accepted | verdict | " + " | ".join(f"× {BASELINE_TITLES[b]}" for b in baselines)
        + " | % SoL | tokens | cost $ | wall s | note |",
        "|---|---|---|" + "---|" * len(baselines) + "---|---|---|---|---|",
    ]
    for r in results:
        speed = r.get("speedup") or {}
        verdict = "unsupported" if r.get("unsupported") else (r.get("verdict") or ("error" if r.get("error") else "–"))
        lines.append(
            f"| {r['problem']} | {'yes' if r.get('accepted') else 'no'} | {verdict} | "
            + " | ".join(_num(speed.get(b)) for b in baselines)
            + f" | {_num(r.get('pct_sol'), '{:.1f}')} | {r.get('tokens') or 0} | {_num(r.get('cost_usd'), '{:.4f}')} | {_num(r.get('wall_s'), '{:.0f}')} | {_cell(_note(r))} |"
        )
    rate = summary["accepted_rate"]
    lines += [
        "",
        "## Summary",
        "",
        f"- accepted: {summary['accepted']} of {summary['problems']} ({_num(rate * 100 if rate is not None else None, '{:.1f}')}%); "
        f"no kernel from the policy: {summary['unsupported']}; errors: {summary['errors']}",
        "- geometric-mean speedup over accepted and timed problems: "
        + ", ".join(f"{BASELINE_TITLES[b]} {_num(summary['geomean_speedup'][b])} ({summary['timed'][b]} timed)" for b in baselines),
        f"- median % of speed of light (accepted, timed): {_num(summary['median_pct_sol'], '{:.1f}')}",
        f"- tokens: {summary['tokens']}; cost: {_num(summary.get('cost_usd'), '${:.4f}') if summary.get('cost_usd') is not None else 'n/a (no price in llm.prices)'}; "
        f"wall time of all runs: {summary['wall_s']:.0f} s",
        "",
        "fast_p = share of all problems that are accepted and more than p times faster than the baseline:",
        "",
        "| p | " + " | ".join(f"vs {BASELINE_TITLES[b]}" for b in baselines) + " |",
        "|---|" + "---|" * len(baselines),
    ]
    for p in P_VALUES:
        lines.append(f"| {p_key(p)} | " + " | ".join(_num(summary["fast_p"][b][p_key(p)], "{:.3f}") for b in baselines) + " |")
    if summary["notes"]:
        lines += [""] + [f"Note: {n}" for n in summary["notes"]]
    return "\n".join(lines) + "\n"
