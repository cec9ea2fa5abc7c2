"""HTML from Jinja2 templates (graphs/traces/templates/), code highlighted by Pygments.

One environment for every page (the trace export, `traces serve`, the bench report): autoescape
on, so every string from a trace (model output included) is escaped unless a filter below made
it markup (Pygments escapes what it highlights). Pages load nothing from the network: inline
CSS, charts as data: images, and one script whose hash is the only one the page's
Content-Security-Policy allows.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import json
import time
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, JsonLexer, PythonLexer

# Expand/collapse all; marks the page ready (the browser test checks it ran, and nothing else did).
PAGE_SCRIPT = ("document.documentElement.setAttribute('data-kw-ready','1');"
               "function kwAll(o){document.querySelectorAll('details').forEach(function(d){d.open=o;});}"
               "var a=document.getElementById('kw-open'),b=document.getElementById('kw-close');"
               "if(a){a.onclick=function(){kwAll(true);};}if(b){b.onclick=function(){kwAll(false);};}")
_FORMATTER = HtmlFormatter(cssclass="hl", style="default")


def csp() -> str:
    digest = base64.b64encode(hashlib.sha256(PAGE_SCRIPT.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'"


def code_html(source: str) -> Markup:
    return Markup(highlight(source, PythonLexer(), _FORMATTER))


def json_html(value: Any) -> Markup:
    return Markup(highlight(json.dumps(value, indent=2, default=str), JsonLexer(), _FORMATTER))


def diff_html(old: str, new: str, old_name: str, new_name: str) -> Markup | None:
    """A unified diff, highlighted; None when the sources are identical."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""))
    return Markup(highlight("\n".join(lines) + "\n", DiffLexer(), _FORMATTER)) if lines else None


def seconds(value: float | None) -> str:
    if not isinstance(value, (int, float)):  # None, or absent from an older trace
        return "-"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s" if value < 120 else f"{value / 60:.1f} min"


def speedup_text(speed: Any) -> str:
    if isinstance(speed, dict) and speed:
        return ", ".join(f"{k} {v:.2f}x" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in speed.items())
    return "-" if speed in (None, {}) else str(speed)


def money(usd: Any) -> str:
    return f"${usd:.4f}" if isinstance(usd, (int, float)) else "n/a (no price in llm.prices)"


def utc(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp)) if isinstance(stamp, (int, float)) and stamp else "-"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("kernelwright.graphs.traces", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(code=code_html, json=json_html, seconds=seconds, speedup=speedup_text, money=money, utc=utc)
    env.globals.update(page_script=Markup(PAGE_SCRIPT), pygments_css=Markup(_FORMATTER.get_style_defs(".hl")))
    return env


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(csp=csp(), **values)
