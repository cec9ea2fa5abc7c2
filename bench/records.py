"""A problem's bench result, one flat record: what the JSON, the Markdown table and the chart show.

Fields: problem, path, device, exit (what `kernelwright run` would have exited with: 0 accepted,
1 none accepted, 2 bad input), accepted, verdict (the best attempt's if accepted, else the last
attempt's, else null), speedup ({baseline: x} or null), median_ms, pct_sol, tokens, cost_usd (null without a price), wall_s,
run_id, run_dir, status, stop_reason, unsupported (the policy's reason when it has no kernel), error.
"""

from __future__ import annotations

import re
from typing import Any

from kernelwright.graphs.traces.store import roofline_digest

_UNSUPPORTED = re.compile(r"raised UnsupportedProblem: (.*)", re.S)


def unsupported_reason(error: str | None) -> str | None:
    """The policy's own words when it has no kernel for the problem (from the run's error), else None."""
    match = _UNSUPPORTED.search(error or "")
    return match.group(1).strip() if match else None


def last_verdict(report: dict[str, Any] | None) -> str | None:
    attempts = (report or {}).get("attempts") or []
    return attempts[-1]["verdict"] if attempts else None


def failed_record(name: str, path: str, device: str, status: str, error: str, exit_code: int = 1,
                  wall_s: float | None = None) -> dict[str, Any]:
    """A result for a problem whose run could not produce a summary (bad input, a crash)."""
    return {"problem": name, "path": path, "device": device, "exit": exit_code, "accepted": False, "verdict": None,
            "speedup": None, "median_ms": None, "pct_sol": None, "roofline": None, "tokens": 0, "cost_usd": None, "wall_s": wall_s, "run_id": None,
            "run_dir": None, "status": status, "stop_reason": None, "unsupported": None, "error": error}


def result_record(name: str, path: str, device: str, summary: dict[str, Any], report: dict[str, Any] | None,
                  check: dict[str, Any] | None, wall_s: float) -> dict[str, Any]:
    """A problem's result from its run's summary, its report.json and the best attempt's check details."""
    best = summary.get("best") or {}
    roofline = (check or {}).get("roofline") or {}
    accepted = bool(summary.get("accepted"))
    return {
        **failed_record(name, path, device, summary.get("status") or "finished", summary.get("error"), 0 if accepted else 1, wall_s),
        "accepted": accepted,
        "verdict": best.get("verdict") if accepted else last_verdict(report),
        "speedup": best.get("speedup") if accepted else None,
        "median_ms": best.get("median_ms") if accepted else None,
        "pct_sol": roofline.get("pct_of_sol") if accepted else None,
        "roofline": roofline_digest(roofline) if accepted and roofline else None,
        "tokens": int((summary.get("usage") or {}).get("total_tokens") or 0),
        "cost_usd": (summary.get("usage") or {}).get("cost_usd"),
        "run_id": summary.get("run_id"),
        "run_dir": summary.get("run_dir"),
        "stop_reason": summary.get("stop_reason"),
        "unsupported": unsupported_reason(summary.get("error")),
    }
