"""`render_html(run)`: one self-contained HTML report of a traced run (`traces export --html`).

The input is `traces_cli.show_run`'s dict (plus, optionally, candidate sources by id). The page
needs no network: inline CSS, inline SVG (the graph with the path taken, the per-iteration chart)
and one tiny inline script (expand/collapse all) whose hash is the only script the page's
Content-Security-Policy allows, so even a failure to escape could not run injected code. Every
string from the trace (model output included) is HTML-escaped.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any

from kernelwright.graphs.traces.escape import _e
from kernelwright.graphs.traces.svg import chart_html, graph_svg

_SCRIPT = ("document.documentElement.setAttribute('data-kw-ready','1');"
           "function kwAll(o){document.querySelectorAll('details').forEach(function(d){d.open=o;});}"
           "document.getElementById('kw-open').onclick=function(){kwAll(true);};"
           "document.getElementById('kw-close').onclick=function(){kwAll(false);};")

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
main{max-width:1120px;margin:0 auto;padding:18px 24px 60px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #d7dbe6;padding-bottom:4px}
.sub{color:#5b6476;margin:0 0 12px}
table.kv{border-collapse:collapse;background:#fff;border:1px solid #d7dbe6;width:100%}
table.kv th,table.kv td{text-align:left;padding:5px 10px;border-bottom:1px solid #eceef4;vertical-align:top}
table.kv th{width:170px;color:#49526a;font-weight:600;background:#fafbfd}
table.grid{border-collapse:collapse;margin:6px 0}table.grid th,table.grid td{border:1px solid #d7dbe6;padding:3px 8px;text-align:left}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;margin-right:4px}
.ok{background:#d9f2df;color:#17612b}.bad{background:#fadcdc;color:#8c1d1d}.neutral{background:#e4e8f2;color:#33405c}
.warn{background:#fff1cc;color:#7a5300}
.card{background:#fff;border:1px solid #d7dbe6;border-radius:8px;padding:10px 14px;margin:8px 0}
ol.steps{list-style:none;padding:0;margin:0}
ol.steps>li{margin:6px 0}
details.step{background:#fff;border:1px solid #d7dbe6;border-radius:8px}
details.step>summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
details.step>summary::before{content:"\\25B8";color:#8a93a6;width:10px}details.step[open]>summary::before{content:"\\25BE"}
details.step[open]>summary{border-bottom:1px solid #eceef4;background:#fafbfd}
details.step .body{padding:8px 14px 12px}
details.step.error{border-color:#d98c8c}
.idx{font-family:ui-monospace,Menlo,Consolas,monospace;color:#5b6476;min-width:34px}
.node{font-weight:700;min-width:80px}.role{color:#49526a;min-width:80px}.dur{font-family:ui-monospace,Menlo,monospace;min-width:70px;text-align:right}
pre{background:#f3f4f8;border:1px solid #e1e4ec;border-radius:6px;padding:8px 10px;overflow:auto;max-height:460px;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word;margin:4px 0}
pre.diff span{display:block}.add{background:#e3f6e6;color:#155724}.del{background:#fbe4e4;color:#7c1c1c}.hunk{color:#6a4fb3}
details.inner{margin:6px 0;border-left:3px solid #c9d0e0;padding-left:10px}
details.inner>summary{cursor:pointer;font-weight:600;color:#33405c}
.msg-role{font-size:12px;font-weight:700;color:#5b6476;text-transform:uppercase;margin-top:6px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.path{font-family:ui-monospace,Menlo,monospace;font-size:13px}
.path a{color:#1d4ed8;text-decoration:none}
button{font:inherit;padding:3px 10px;margin-right:6px;border:1px solid #b9c0d2;background:#fff;border-radius:6px;cursor:pointer}
.note{color:#5b6476;font-size:13px}
"""


def _pre(value: Any, cls: str = "") -> str:
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, default=str)
    attr = f' class="{cls}"' if cls else ""
    return f"<pre{attr}>{_e(value)}</pre>"


def _tokens(calls: list[dict[str, Any]] | None) -> int:
    return sum(int((c.get("usage") or {}).get("total_tokens") or 0) for c in calls or [])


def _fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{seconds / 60:.1f} min"


def _speedup(speed: Any) -> str:
    if isinstance(speed, dict) and speed:
        return ", ".join(f"{k} {v:.2f}x" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in speed.items())
    return "-" if speed in (None, {}) else str(speed)


def _isolation_cell(isolation: dict | None) -> str:
    """The sandbox a check ran in: its tool and whether every layer was active (the layers on hover)."""
    if not isolation:
        return '<span class="note">-</span>'
    cls, word = ("ok", "full isolation") if isolation.get("full") else ("bad", "DEGRADED: no " + ", ".join(
        m.split(":")[0] for m in isolation.get("missing") or []))
    layers = ", ".join(isolation.get("layers") or [])
    return f'<span class="badge {cls} sandbox" title="{_e(layers)}">{_e(isolation.get("tool") or "no OS sandbox")}: {_e(word)}</span>'


def _verdict_badge(verdict: str) -> str:
    cls = "ok" if verdict == "accepted" else "bad"
    return f'<span class="badge {cls}">{_e(verdict)}</span>'


# -- candidates -------------------------------------------------------------------------------

_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.S)


def load_sources(run: dict[str, Any], home: Path | None) -> dict[str, str]:
    """Candidate sources by id: the run folder's candidates/<id>.py (written by the check node);
    for any that is missing, a fenced code block of a code/debug step's LLM response whose
    sha256 matches the candidate's recorded hash."""
    sources: dict[str, str] = {}
    if home is not None:
        folder = Path(home) / "runs" / run["run_id"] / "candidates"
        if folder.is_dir():
            for path in sorted(folder.glob("*.py")):
                sources[path.stem] = path.read_text(errors="replace")
    for step in run.get("steps", []):
        pending = (step.get("summary") or {}).get("pending") or []
        missing = {c["sha"]: c["id"] for c in pending if c.get("id") not in sources and c.get("sha")}
        if not missing:
            continue
        for call in step.get("llm") or []:
            for block in _FENCE.findall(call.get("response") or ""):
                for text in (block, block.strip() + "\n", block.strip()):
                    sha = hashlib.sha256(text.encode()).hexdigest()[:16]
                    if sha in missing:
                        sources[missing.pop(sha)] = text
                        break
    return sources


def candidate_lineage(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every candidate in order of appearance: id, step index, parent_id, sha, and `previous`:
    the candidate it is diffed against (its parent if it has one, else the last earlier
    candidate of the same slot `-cN`, i.e. the same lineage in an earlier round)."""
    out: list[dict[str, Any]] = []
    last_in_slot: dict[str, str] = {}
    for step in run.get("steps", []):
        for cand in (step.get("summary") or {}).get("pending") or []:
            cid = cand.get("id")
            if not cid:
                continue
            slot_m = re.match(r"r\d+-(c\d+)", cid)
            slot = slot_m.group(1) if slot_m else None
            previous = cand.get("parent_id") or (last_in_slot.get(slot) if slot else None)
            out.append({"id": cid, "step": step["index"], "parent_id": cand.get("parent_id"), "sha": cand.get("sha"), "previous": previous})
            if slot:
                last_in_slot[slot] = cid
    return out


def _diff_html(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))
    if not lines:
        return '<p class="note">identical source</p>'
    rows = []
    for line in lines:
        cls = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        rows.append(f'<span class="{cls}">{_e(line) or " "}</span>' if cls else f"<span>{_e(line) or ' '}</span>")
    return '<pre class="diff">' + "".join(rows) + "</pre>"


# -- iterations and the chart ------------------------------------------------------------------

def _llm_html(calls: list[dict[str, Any]]) -> str:
    out = []
    for k, call in enumerate(calls):
        usage = call.get("usage") or {}
        head = (f"LLM call {k + 1}: {_e(call.get('role'))} · model {_e(call.get('model'))} · "
                f"{_e(usage.get('prompt_tokens', 0))} prompt + {_e(usage.get('completion_tokens', 0))} completion tokens · "
                f"{_e(_fmt_s(call.get('latency_s')))}")
        msgs = []
        for m in call.get("messages") or []:
            if isinstance(m, dict):
                role, content = m.get("role") or m.get("type") or "message", m.get("content")
            else:
                role, content = "message", m
            msgs.append(f'<div class="msg-role">{_e(role)}</div>{_pre(content if isinstance(content, str) else json.dumps(content, indent=2, default=str))}')
        out.append(f'<details class="inner llm"><summary>{head}</summary>'
                   f'<details class="inner"><summary>prompt ({len(call.get("messages") or [])} messages)</summary>{"".join(msgs)}</details>'
                   f'<div class="msg-role">response</div>{_pre(call.get("response") or "")}</details>')
    return "".join(out)


def _step_html(step: dict[str, Any], sources: dict[str, str], lineage: dict[str, dict[str, Any]]) -> str:
    summary = step.get("summary") or {}
    calls = step.get("llm") or []
    tokens = _tokens(calls)
    verdicts = step.get("verdicts") or []
    head = [f'<span class="idx">[{_e(step["index"])}]</span>', f'<span class="node">{_e(step["node"])}</span>',
            f'<span class="role">{_e(step.get("role") or "tool")}</span>', f'<span class="dur">{_e(_fmt_s(step.get("duration_s")))}</span>']
    head += [_verdict_badge(v) for v in verdicts]
    if step.get("inherited"):
        head.append('<span class="badge neutral">copied from the original run</span>')
    if calls:
        head.append(f'<span class="badge neutral">{len(calls)} LLM call{"s" if len(calls) != 1 else ""} · {tokens} tokens</span>')
    pending = summary.get("pending") or []
    if pending:
        head.append(f'<span class="badge neutral">{len(pending)} candidate{"s" if len(pending) != 1 else ""}</span>')
    if step.get("error"):
        head.append('<span class="badge bad">error</span>')
    body = []
    if step.get("error"):
        body.append(f'<div class="msg-role">error</div>{_pre(step["error"])}')
    for key in ("plan", "analysis"):
        if isinstance(summary.get(key), str):
            body.append(f'<div class="msg-role">{key}</div>{_pre(summary[key])}')
    if calls:
        body.append(_llm_html(calls))
    for cand in pending:
        cid = cand.get("id")
        info = lineage.get(cid, {})
        prev = info.get("previous")
        code = sources.get(cid)
        inner = [f'<p class="note">parent {_e(cand.get("parent_id") or "none")} · sha256 {_e(cand.get("sha"))}</p>']
        if code is None:
            inner.append('<p class="note">source not found (no candidates/ file in the run folder, no matching code in the responses)</p>')
        else:
            inner.append(f'<details class="inner"><summary>source ({len(code.splitlines())} lines)</summary>{_pre(code, "code")}</details>')
            if prev and prev in sources:
                inner.append(f'<details class="inner" open><summary>diff against {_e(prev)}</summary>{_diff_html(sources[prev], code, prev, cid)}</details>')
            elif prev:
                inner.append(f'<p class="note">previous candidate {_e(prev)}: source not found, no diff</p>')
            else:
                inner.append('<p class="note">first of its lineage: no diff</p>')
        body.append(f'<details class="inner cand" data-candidate="{_e(cid)}"><summary>candidate {_e(cid)}</summary>{"".join(inner)}</details>')
    tools = step.get("tools") or []
    if tools:
        rows = "".join(f"<tr><td>{_e(t.get('tool'))}</td><td>{_e(t.get('candidate'))}</td><td>{_verdict_badge(t.get('verdict') or '?')}</td>"
                       f"<td>{_e(_fmt_s(t.get('wall_s')))}</td><td>{_isolation_cell(t.get('isolation'))}</td></tr>" for t in tools)
        body.append(f'<table class="grid tools"><tr><th>tool</th><th>candidate</th><th>verdict</th><th>wall</th><th>sandbox</th></tr>{rows}</table>')
    attempts = summary.get("attempts") or []
    if attempts:
        rows = "".join(f"<tr><td>{_e(a.get('candidate_id'))}</td><td>{_verdict_badge(a.get('verdict') or '?')}</td><td>{_e(_speedup(a.get('speedup')))}</td></tr>" for a in attempts)
        body.append(f'<table class="grid verdicts"><tr><th>attempt</th><th>verdict</th><th>speedup</th></tr>{rows}</table>')
    body.append(f'<details class="inner"><summary>state update (summary)</summary>{_pre(summary)}</details>')
    started = step.get("started_at")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)) + " UTC" if started else "-"
    body.append(f'<p class="note">started {_e(when)}</p>')
    cls = "step error" if step.get("error") else "step"
    return (f'<li id="step-{_e(step["index"])}" data-node="{_e(step["node"])}"><details class="{cls}"><summary>{"".join(head)}</summary>'
            f'<div class="body">{"".join(body)}</div></details></li>')


# -- the page ----------------------------------------------------------------------------------

def _origin(run: dict[str, Any]) -> str:
    """Where a forked or replayed run came from (`kernelwright run --fork / --replay`)."""
    fork, replay = run.get("forked_from"), run.get("replay_of")
    parts = [f"fork of {fork['run_id']} after step {fork['step']} (steps 0-{fork['step']} are that run's)"] if fork else []
    parts += [f"replay of {replay} (its recorded LLM answers)"] if replay else []
    return "; ".join(parts) or "a new run"


def _summary_table(run: dict[str, Any]) -> str:
    usage = run.get("usage") or {}
    best = run.get("best") or {}
    status = run.get("status") or "?"
    status_cls = "ok" if status == "finished" and run.get("accepted") else "bad" if status == "failed" else "warn"
    best_txt = (f"{best.get('candidate_id')} · {best.get('verdict')} · speedup {_speedup(best.get('speedup'))}"
                + (f" · median {best['median_ms']:.4g} ms" if isinstance(best.get("median_ms"), (int, float)) else " · no timing")
                if best else "none accepted")
    created = run.get("created_at")
    rows = [
        ("problem", _e(run.get("problem"))),
        ("status", f'<span class="badge {status_cls}">{_e(status)}</span> {"accepted" if run.get("accepted") else "nothing accepted"}'),
        ("stop reason", _e(run.get("stop_reason") or "-")),
        ("error", _e(run.get("error") or "-")),
        ("origin", _e(_origin(run))),
        ("policy", _e(run.get("policy"))),
        ("model", _e(run.get("model") or "-")),
        ("device", _e((run.get("config") or {}).get("check", {}).get("device", "-"))),
        ("tokens", f"{_e(usage.get('total_tokens', 0))} total ({_e(usage.get('prompt_tokens', 0))} prompt, {_e(usage.get('completion_tokens', 0))} completion)"),
        ("wall time", _e(_fmt_s(run.get("wall_s")))),
        ("best", _e(best_txt)),
        ("steps", _e(len(run.get("steps", [])))),
        ("started", _e(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(created)) if created else "-")),
        ("versions", _e(", ".join(f"{k} {v}" for k, v in (run.get("versions") or {}).items()) or "-")),
    ]
    return '<table class="kv" id="summary">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def render_html(run: dict[str, Any], sources: dict[str, str] | None = None) -> str:
    """The whole report as one HTML string. `run`: `show_run`'s dict; `sources`: candidate id ->
    source (see `load_sources`); without it, sources are recovered from the LLM responses only."""
    if sources is None:
        sources = load_sources(run, None)
    lineage = {c["id"]: c for c in candidate_lineage(run)}
    steps = run.get("steps", [])
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'"
    title = f"kernelwright run {run.get('run_id')}"
    config = run.get("config") or {}
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(Path(str(run.get("problem") or "")).name)} · {_e(run.get("status"))} · {len(steps)} steps · '
        "exported by <code>kernelwright traces export</code></p>",
        "<h2>Summary</h2>", _summary_table(run),
        "<h2>Graph and path taken</h2>",
        '<p class="note">Orange: nodes visited and edges taken (with counts); grey: the rest of the graph.</p>',
        graph_svg(run),
        "<h2>Progress per iteration</h2>", chart_html(run),
        f'<h2>Steps ({len(steps)})</h2>',
        '<p><button id="kw-open" type="button">expand all</button><button id="kw-close" type="button">collapse all</button></p>',
        '<ol class="steps" id="steps">', "".join(_step_html(s, sources, lineage) for s in steps), "</ol>",
        f'<h2>Config</h2><details class="inner"><summary>run config</summary>{_pre(config)}</details>',
        f"</main><script>{_SCRIPT}</script></body></html>\n",
    ])
