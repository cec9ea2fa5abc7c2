"""The package's layers, read from the code's own imports (every `import`, lazy ones inside
functions included, parsed with `ast`, nothing imported):

    kernelwright/ (the CLI)  ->  bench  ->  graphs  ->  agents, memory, configs  ->  tools

A folder may import from its own floor's folders or from lower floors, never from a higher one,
and no two folders may import each other, directly or around a circle. `kernelwright/__init__.py`
(the version) is the package's root: every folder may read it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from paths import ROOT

FLOORS: dict[str, int] = {"cli": 4, "bench": 3, "graphs": 2, "agents": 1, "memory": 1, "configs": 1, "tools": 0}
SOURCE_FOLDERS = {"kernelwright": "cli", "bench": "bench", "graphs": "graphs", "agents": "agents", "memory": "memory",
                  "configs": "configs", "tools": "tools"}


def imported_folder(name: str) -> str | None:
    """The layer a `kernelwright.<folder>...` import reaches; None for the root and for other packages."""
    parts = name.split(".")
    if parts[0] != "kernelwright" or len(parts) == 1:
        return None
    return parts[1] if parts[1] in FLOORS else "cli"  # kernelwright.cli, kernelwright.__main__


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import in the file; `from kernelwright import x` counts as
    kernelwright.x when x is a submodule."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "kernelwright":
                out.extend((node.lineno, f"kernelwright.{alias.name}") for alias in node.names if alias.name in (*FLOORS, "cli"))
            else:
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            out.append((node.lineno, "<relative>"))
    return out


def edges() -> list[tuple[str, str, str]]:
    """(importing folder, imported folder, where) for every import between two layers' folders."""
    found = []
    for source, layer in SOURCE_FOLDERS.items():
        for path in sorted((ROOT / source).rglob("*.py")):
            for line, name in imports_of(path):
                where = f"{path.relative_to(ROOT)}:{line}"
                assert name != "<relative>", f"{where}: a relative import; write `from kernelwright.<folder>... import`"
                target = imported_folder(name)
                if target is not None and target != layer:
                    found.append((layer, target, f"{where} imports {name}"))
    return found


def upward(found: list[tuple[str, str, str]]) -> list[str]:
    return [f"{where} ({src}, floor {FLOORS[src]}, imports {dst}, floor {FLOORS[dst]})"
            for src, dst, where in found if FLOORS[dst] > FLOORS[src]]


def cycles(found: list[tuple[str, str, str]]) -> list[list[str]]:
    """Circles in the folder graph (each once, from its smallest folder name)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst, _ in found:
        graph[src].add(dst)
    circles: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                circles.append([*path, start])
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return circles


def test_no_folder_imports_from_a_higher_layer():
    assert upward(edges()) == []


def test_no_import_circle_between_folders():
    found = edges()
    assert cycles(found) == [], [
        [where for src, dst, where in found if (src, dst) in zip(circle, circle[1:])] for circle in cycles(found)]


def test_the_checks_catch_what_they_look_for():
    # The rules themselves, on made-up edges: an upward import, and a circle on one floor.
    made_up = [("tools", "graphs", "tools/x.py:1"), ("agents", "memory", "a:1"), ("memory", "agents", "m:1"), ("graphs", "tools", "g:1")]
    assert upward(made_up) == ["tools/x.py:1 (tools, floor 0, imports graphs, floor 2)"]
    assert cycles(made_up) == [["agents", "memory", "agents"], ["graphs", "tools", "graphs"]]


# Where processes may start: the sandbox's launcher (cold children, the warm worker and its
# forked jobs), the bench's workers (kernelwright itself, trusted), and fixed tool probes.
PROCESS_STARTERS = {
    "tools/sandbox/child.py": "the launcher: every sandboxed child (start_child, run_child)",
    "tools/sandbox/warm.py": "the warm worker, started by the launcher's warm path",
    "tools/sandbox/zygote.py": "forks each warm job inside the sandbox",
    "tools/worker/profile_ncu_launch.py": "inside a sandboxed child: exec ncu on the profile run",
    "bench/executor.py": "the bench's workers (python -m kernelwright.bench.worker)",
    "tools/sandbox/support.py": "bwrap --version and feature probes",
    "tools/devices.py": "nvidia-smi for the driver version",
    "tools/profile/ncu.py": "ncu --import of a finished report",
}
STARTS = ("subprocess.Popen", "subprocess.run", "subprocess.call", "subprocess.check_output", "subprocess.check_call",
          "os.fork", "os.execv", "os.execve", "os.spawnv", "os.system", "os.posix_spawn", "multiprocessing")


def test_processes_start_in_the_launcher_or_a_listed_place():
    found = []
    for source in SOURCE_FOLDERS:
        for path in sorted((ROOT / source).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    name = f"{node.value.id}.{node.attr}"
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    name = getattr(node, "module", None) or node.names[0].name
                else:
                    continue
                if name.startswith(STARTS) and rel not in PROCESS_STARTERS:
                    found.append(f"{rel}:{node.lineno} {name}")
    assert found == [], "start sandboxed code with kernelwright.tools.sandbox.child.start_child: " + "; ".join(found)


def test_sqlite_files_are_opened_by_the_one_helper():
    # traces.db, checkpoints.db and memory.db get the same settings (WAL, busy timeout, setup lock).
    found = []
    for source in SOURCE_FOLDERS:
        for path in sorted((ROOT / source).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect" \
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "sqlite3" and rel != "tools/sqlite.py":
                    found.append(f"{rel}:{node.lineno}")
                called = getattr(node.func, "attr", None) or getattr(node.func, "id", None) if isinstance(node, ast.Call) else None
                if called == "Database":  # sqlite-utils: over a connection the helper opened, never over a path
                    arg = node.args[0] if node.args else None
                    opened = isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "open_sqlite"
                    if not (opened or (isinstance(arg, ast.Name) and arg.id == "conn")):
                        found.append(f"{rel}:{node.lineno} Database(...)")
    assert found == [], "open SQLite files with kernelwright.tools.sqlite.open_sqlite: " + "; ".join(found)
