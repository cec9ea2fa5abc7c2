"""`kernelwright traces serve`: the trace pages over HTTP on this machine, to follow a run while it
goes on. Each request renders from HOME/traces.db afresh (the runner writes a step as each node
finishes); a page of a running run reloads itself every few seconds. Standard library HTTP
server (`http.server`), bound to 127.0.0.1 unless --host says otherwise; read-only."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from kernelwright.graphs.traces.render import render

REFRESH_S = 3


def _page(home: Path, path: str) -> tuple[int, str]:
    from kernelwright.graphs.traces.cli import run_row, show_run
    from kernelwright.graphs.traces.html import load_sources, render_html
    from kernelwright.graphs.traces.store import TraceStore
    from kernelwright.tools.problem import InputError

    store = TraceStore(home / "traces.db")  # per request: SQLite connections stay in their thread

    if path in ("", "/"):
        rows = [run_row(r) for r in store.runs()]
        running = any(r.status == "running" for r in rows)
        return 200, render("index.html.j2", title=f"kernelwright runs in {home}", runs=rows, refresh_s=REFRESH_S if running else None)
    if path.startswith("/run/"):
        try:
            data = show_run(store, unquote(path[len("/run/"):]))
        except InputError as exc:
            return 404, render("index.html.j2", title="no such run", runs=[], message=str(exc), refresh_s=None)
        refresh = REFRESH_S if data.status == "running" else None
        return 200, render_html(data, load_sources(data, home), home=home, refresh_s=refresh)
    return 404, render("index.html.j2", title="not found", runs=[], message=f"nothing at {path}", refresh_s=None)


def serve(home: Path, host: str, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # one line per request on stderr, kernelwright style
            print(f"kernelwright: {self.address_string()} {format % args}", file=sys.stderr, flush=True)

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            status, body = _page(home, self.path.split("?", 1)[0])
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    print(f"kernelwright: serving the traces of {home} at http://{host}:{httpd.server_address[1]}/ (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
