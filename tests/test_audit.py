"""The runtime audit and the environment view of the candidate's process (issue 16, classes 3-5).

Each case runs a small "solution" in a fresh interpreter set up as the candidate worker does
(audit hook installed and armed, environment view, the checker's modules out of sys.modules),
because an audit hook cannot be removed from the process that added it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from kernelwright.tools.check.audit import AUDIT_EXIT

DRIVER = """
import sys
from kernelwright.tools.check.audit import CandidateAudit
from kernelwright.tools.check.code_origin import CodeOrigins
from kernelwright.tools.check.env_view import restrict_environment
import importlib.util

origins = CodeOrigins(sys.argv[1])
restrict_environment(origins)
audit = CandidateAudit(origins)
audit.install()
for name in [n for n in sys.modules if n.startswith("kernelwright")]:
    del sys.modules[name]
audit.arm(lambda refusal: print("REFUSED", refusal.message, flush=True))
spec = importlib.util.spec_from_file_location("kw_solution", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))  # as the worker loads it
print("FINISHED", flush=True)
"""


def run_solution(tmp_path, source: str) -> subprocess.CompletedProcess:
    path = tmp_path / "solution.py"
    path.write_text(textwrap.dedent(source))
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    return subprocess.run([sys.executable, "-c", DRIVER, str(path)], capture_output=True, text=True, env=env, timeout=120)


REFUSED = {
    "sys._getframe": "import sys\nf = sys._getframe(0)\n",
    "a frame through the standard library": "import traceback\nfor f, _ in traceback.walk_stack(None):\n    pass\n",
    "a generator's frame": "def g():\n    yield 1\nx = g().gi_frame\n",
    "a function's code object": "def f():\n    pass\nc = f.__code__\n",
    "gc's object list": "import gc\nobjs = gc.get_objects()\n",
    "exec of a string": "exec('y = 1')\n",
    "exec under another name": "run = exec\nrun('y = 1')\n",
    "compile of a string": "c = compile('y = 1', 's', 'exec')\n",
    "a file opened for writing": "import tempfile\nopen(tempfile.gettempdir() + '/kw-audit-test', 'w')\n",
    "a shell command": "import os\nos.system('true')\n",
    "the checker's own modules": "import kernelwright.tools.check.guards\n",
    "a trace hook": "import sys\nsys.settrace(None)\n",
    "ctypes": "import ctypes\nctypes.string_at(id(object()), 8)\n",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_candidate_asking_is_refused_and_the_process_ends(tmp_path, name):
    done = run_solution(tmp_path, REFUSED[name])
    assert done.returncode == AUDIT_EXIT, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "FINISHED" not in done.stdout
    assert "REFUSED solution.py:" in done.stdout and "refused at run time" in done.stdout, done.stdout


# One solution for all of them (one interpreter start): each line is something honest code does.
ALLOWED = {
    "a dataclass": "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass C:\n    x: int = 1\nC()\n",
    "a namedtuple and typing.NamedTuple": (
        "import collections, typing\nP = collections.namedtuple('P', 'a b')\n"
        "class Q(typing.NamedTuple):\n    a: int\nP(1, 2), Q(1)\n"
    ),
    "an enum": "import enum\nclass E(enum.Enum):\n    A = 1\nF = enum.Enum('F', 'X Y')\n",
    "a warning that shows its own source line": "import warnings\nwarnings.warn('shown with its line')\n",
    "reading its own source": "import linecache\nlinecache.getline(__file__, 1)\n",
    "id() and sleeping": "import time\nid(object())\ntime.sleep(0)\n",
    "importing an allowed module first time": "import colorsys\n",
}


def test_what_honest_code_does_is_allowed(tmp_path):
    source = "".join(f"# {name}\n{code}" for name, code in ALLOWED.items())
    done = run_solution(tmp_path, source)
    assert done.returncode == 0 and "FINISHED" in done.stdout, (done.stdout, done.stderr[-2000:])


def test_libraries_may_do_for_themselves_what_the_candidate_may_not(tmp_path):
    """Triton reads sources and compiles and executes its interpreter's rewrite of the kernel."""
    done = run_solution(tmp_path, """
        import torch
        import triton
        import triton.language as tl

        @triton.jit
        def double(x_ptr, n, BLOCK: tl.constexpr):
            offs = tl.arange(0, BLOCK)
            tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2, mask=offs < n)

        x = torch.ones(8)
        double[(1,)](x, 8, BLOCK=8)
        assert float(x.sum()) == 16.0
    """)
    assert done.returncode == 0 and "FINISHED" in done.stdout, (done.stdout, done.stderr[-3000:])


def _target_install(folder) -> None:
    """A `pip install --target` folder: `framelib` installed (in its distribution's RECORD) and a
    `stray` module beside it that nobody installed. Both read a frame, as typing_extensions does."""
    folder.mkdir()
    code = "import sys\n\ndef caller():\n    return sys._getframe(1).f_globals.get('__name__')\n"
    (folder / "framelib.py").write_text(code)
    (folder / "stray.py").write_text(code)
    info = folder / "framelib-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: framelib\nVersion: 1.0\n")
    (info / "RECORD").write_text("framelib.py,,\nframelib-1.0.dist-info/METADATA,,\nframelib-1.0.dist-info/RECORD,,\n")


@pytest.mark.parametrize("module,allowed", [("framelib", True), ("stray", False)])
def test_a_library_installed_on_pythonpath_is_a_library_and_a_stray_file_beside_it_is_not(tmp_path, module, allowed):
    """The GPU machine installs the checker's dependencies with `pip install --target DIR` and
    PYTHONPATH (found in a GPU round: every check refused, typing_extensions being taken for the
    candidate's code). What pip installed there is a library's; any other file there is not."""
    site = tmp_path / "site"
    _target_install(site)
    path = tmp_path / "solution.py"
    path.write_text(f"import {module}\n{module}.caller()\n")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(path)], capture_output=True, text=True, env=env, timeout=120)
    if allowed:
        assert done.returncode == 0 and "FINISHED" in done.stdout, (done.stdout, done.stderr[-2000:])
    else:
        assert done.returncode == AUDIT_EXIT and "REFUSED stray.py:" in done.stdout, (done.stdout, done.stderr[-2000:])


def test_the_candidate_sees_only_allow_listed_environment_variables(tmp_path):
    done = run_solution(tmp_path, """
        import os
        import triton
        print("interpret", os.getenv("TRITON_INTERPRET"), "TRITON_INTERPRET" in os.environ)
        print("names", sorted(k for k in os.environ if not k.startswith(("PATH", "LANG", "LC_", "TZ", "HOME", "USER", "LOGNAME", "SHELL", "TERM"))))
        print("path", os.getenv("PATH") is not None)
        print("home", os.getenv("HOME"), os.environ["USER"], "SHELL" in os.environ)
        print("knob", triton.knobs.runtime.interpret)

        @triton.jit
        def k(x):
            pass

        print("kernel", type(k).__name__)
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "interpret None False" in done.stdout
    assert "names []" in done.stdout or "names ['CUDA_VISIBLE_DEVICES']" in done.stdout or "OMP_NUM_THREADS" in done.stdout
    assert "path True" in done.stdout
    # A user's session has these; their absence (or the sandbox's own folders) would tell a check apart.
    assert "home /home/user user True" in done.stdout
    # The candidate's read of Triton's knob says "no interpreter", as in a GPU process (a red-team
    # candidate was honest only when it said otherwise); Triton's own read still picks the interpreter.
    assert "knob False" in done.stdout and "kernel InterpretedFunction" in done.stdout
