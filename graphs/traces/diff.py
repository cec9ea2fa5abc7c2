"""`diff_runs(a, b)`: per-step and outcome differences of two traced runs (`traces diff`).

Steps are aligned on their node sequence (difflib's SequenceMatcher): matched steps are compared
on role, verdicts and tokens (durations always differ; their delta is reported, not counted as a
difference); unmatched steps appear as only in A or only in B.
"""

from __future__ import annotations

import difflib
from typing import Any


def _tokens(step: dict[str, Any]) -> int:
    return sum(int((c.get("usage") or {}).get("total_tokens") or 0) for c in step.get("llm") or [])


def _brief(step: dict[str, Any]) -> dict[str, Any]:
    return {"index": step["index"], "node": step["node"], "role": step.get("role"), "duration_s": step.get("duration_s"),
            "verdicts": step.get("verdicts") or [], "tokens": _tokens(step), "error": step.get("error")}


def _eager(run: dict[str, Any]) -> float | None:
    speed = (run.get("best") or {}).get("speedup")
    return speed.get("eager") if isinstance(speed, dict) else None


def _field(a: Any, b: Any) -> dict[str, Any]:
    return {"a": a, "b": b, "same": a == b}


def diff_runs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """a, b: `traces_cli.show_run` dicts."""
    sa, sb = a.get("steps", []), b.get("steps", [])
    matcher = difflib.SequenceMatcher(a=[s["node"] for s in sa], b=[s["node"] for s in sb], autojunk=False)
    rows: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for x, y in zip(sa[i1:i2], sb[j1:j2]):
                bx, by = _brief(x), _brief(y)
                differences = [k for k in ("role", "verdicts", "tokens", "error") if bx[k] != by[k]]
                rows.append({"op": "changed" if differences else "same", "a": bx, "b": by, "differences": differences,
                             "duration_delta_s": (by["duration_s"] or 0.0) - (bx["duration_s"] or 0.0)})
            continue
        rows += [{"op": "only_a", "a": _brief(x), "b": None, "differences": ["node"], "duration_delta_s": None} for x in sa[i1:i2]]
        rows += [{"op": "only_b", "a": None, "b": _brief(y), "differences": ["node"], "duration_delta_s": None} for y in sb[j1:j2]]
    ua, ub = a.get("usage") or {}, b.get("usage") or {}
    outcome = {
        "status": _field(a.get("status"), b.get("status")),
        "accepted": _field(bool(a.get("accepted")), bool(b.get("accepted"))),
        "best_candidate": _field((a.get("best") or {}).get("candidate_id"), (b.get("best") or {}).get("candidate_id")),
        "best_speedup": _field(_eager(a), _eager(b)),
        "best_median_ms": _field((a.get("best") or {}).get("median_ms"), (b.get("best") or {}).get("median_ms")),
        "stop_reason": _field(a.get("stop_reason"), b.get("stop_reason")),
        "error": _field(a.get("error"), b.get("error")),
        "verdicts": _field([v for s in sa for v in s.get("verdicts") or []], [v for s in sb for v in s.get("verdicts") or []]),
        "total_tokens": _field(ua.get("total_tokens", 0), ub.get("total_tokens", 0)),
        "steps": _field(len(sa), len(sb)),
        "wall_s": _field(a.get("wall_s"), b.get("wall_s")),
    }
    counts = {op: sum(r["op"] == op for r in rows) for op in ("same", "changed", "only_a", "only_b")}
    return {
        "run_a": a["run_id"], "run_b": b["run_id"],
        "problem": _field(a.get("problem"), b.get("problem")),
        "nodes": _field([s["node"] for s in sa], [s["node"] for s in sb]),
        "outcome": outcome,
        "steps": rows,
        "counts": counts,
        "identical_path": counts["only_a"] == 0 and counts["only_b"] == 0,
    }


def format_diff(d: dict[str, Any]) -> str:
    """A readable terminal view of `diff_runs`' result."""
    lines = [f"A {d['run_a']}", f"B {d['run_b']}"]
    if not d["problem"]["same"]:
        lines.append(f"problem   A {d['problem']['a']}  B {d['problem']['b']}")
    for key, f in d["outcome"].items():
        if key == "wall_s":
            fa, fb = f["a"], f["b"]
            lines.append(f"{key:<15} A {fa if fa is None else round(fa, 2)!s:<12} B {fb if fb is None else round(fb, 2)!s}")
            continue
        mark = " " if f["same"] else "*"
        lines.append(f"{mark}{key:<14} A {f['a']!s:<12} B {f['b']!s}")
    c = d["counts"]
    lines.append(f"steps: {c['same']} same, {c['changed']} changed, {c['only_a']} only in A, {c['only_b']} only in B")

    def cell(s: dict[str, Any] | None) -> str:
        if s is None:
            return " " * 48
        v = ",".join(s["verdicts"])
        return f"[{s['index']:>2}] {s['node']:<9} {(s['role'] or 'tool'):<9} {s['duration_s'] or 0:7.2f}s {v:<14}"

    sign = {"same": "=", "changed": "~", "only_a": "-", "only_b": "+"}
    for r in d["steps"]:
        extra = ""
        if r["op"] == "changed":
            extra = "  " + "; ".join(f"{k}: {r['a'][k]} -> {r['b'][k]}" for k in r["differences"])
        if r["duration_delta_s"] is not None:
            extra += f"  dt {r['duration_delta_s']:+.2f}s"
        lines.append(f"{sign[r['op']]} A {cell(r['a'])} | B {cell(r['b'])}{extra}")
    return "\n".join(lines)
