"""The static scan flags the cheats visible in source and leaves honest kernels alone."""

import pytest

from kernelwright.tools.check.static_scan import scan_solution
from kernelwright.tools.check.verdicts import Verdict

from paths import SOLUTIONS

HONEST_HEADER = "import torch\nimport torch.nn as nn\nimport triton\nimport triton.language as tl\n"


@pytest.mark.parametrize(
    "snippet, verdict, words",
    [
        ("import threading", Verdict.STATIC_VIOLATION, "threads"),
        ("from concurrent.futures import ThreadPoolExecutor", Verdict.STATIC_VIOLATION, "threads"),
        ("import gc", Verdict.STATIC_VIOLATION, "garbage collector"),
        ("import sys\nf = sys._getframe(1)", Verdict.STATIC_VIOLATION, "frames"),
        ("def f(x):\n    try:\n        return k(x)\n    except Exception:\n        return x * 2", Verdict.STATIC_VIOLATION, "try/except"),
        ("torch.backends.cuda.matmul.allow_tf32 = True", Verdict.GLOBAL_STATE, "numerics"),
        ("from torch.backends import cudnn\ncudnn.allow_tf32 = True", Verdict.GLOBAL_STATE, "allow_tf32"),
        ("torch.set_float32_matmul_precision('high')", Verdict.GLOBAL_STATE, "process-wide"),
        ("torch.manual_seed(0)", Verdict.GLOBAL_STATE, "process-wide"),
        ("torch.cuda.Event = object", Verdict.GLOBAL_STATE, "patches"),
        ("import time\ntime.perf_counter = lambda: 0.0", Verdict.GLOBAL_STATE, "patches"),
        ("s = torch.cuda.Stream()", Verdict.STATIC_VIOLATION, "stream"),
        ("s = torch.cuda.streams.Stream()", Verdict.STATIC_VIOLATION, "stream"),
        ("import torch.cuda as tc\ns = tc.Stream()", Verdict.STATIC_VIOLATION, "stream"),
        ("x = eval('1')", Verdict.STATIC_VIOLATION, "cannot see"),
        ("m = __import__('os')", Verdict.STATIC_VIOLATION, "cannot see"),
        ("import os\nos.environ['CUDA_LAUNCH_BLOCKING'] = '1'", Verdict.STATIC_VIOLATION, "environ"),
        ("data = open('/tmp/ref.pt', 'rb').read()", Verdict.STATIC_VIOLATION, "files"),
        ("y = torch.load('/tmp/ref.pt')", Verdict.STATIC_VIOLATION, "disk"),
        ("class Model(nn.Module):\n    pass\nclass ModelNew(Model):\n    pass", Verdict.STATIC_VIOLATION, "subclass"),
        ("src = 'cudaStreamCreate(&s);'", Verdict.STATIC_VIOLATION, "stream"),
        ("src = 'attr.accessPolicyWindow.num_bytes = n;'", Verdict.STATIC_VIOLATION, "L2"),
        ("f = torch.__dict__['Stream']", Verdict.STATIC_VIOLATION, "hidden"),
        ("v = getattr(torch.cuda, 'Str' + 'eam')", Verdict.STATIC_VIOLATION, "computed name"),
        ("CACHE = {}\ndef f():\n    global CACHE", Verdict.GLOBAL_STATE, "between calls"),
    ],
)
def test_cheats_are_flagged(snippet, verdict, words):
    findings = scan_solution(HONEST_HEADER + snippet + "\n")
    assert findings, snippet
    assert findings[0].verdict is verdict
    assert words.lower() in " ".join(f.message.lower() for f in findings)
    assert findings[0].line > 4  # points at the offending line, not the header


def test_honest_solutions_pass_the_scan():
    for path in sorted(SOLUTIONS.glob("*.py")):
        assert scan_solution(path.read_text()) == [], path.name


def test_honest_idioms_are_not_flagged():
    src = HONEST_HEADER + (
        "import math\nimport os\n"
        "class ModelNew(nn.Module):\n"
        "    def __init__(self, n):\n"
        "        super().__init__()\n"
        "        self.weight = nn.Parameter(torch.empty(n))\n"
        "        setattr(self, 'scale', 2.0)\n"
        "        self.block = int(os.getenv('UNUSED', '1024'))\n"
        "    def forward(self, x):\n"
        "        y = torch.empty_like(x).view(-1)\n"
        "        return y.reshape(x.shape) * math.sqrt(2.0)\n"
    )
    assert scan_solution(src) == []


@pytest.mark.parametrize(
    "snippet, words",
    [
        ("import os\nfd = os.open('candidate.events.jsonl', os.O_WRONLY)", "os.open"),
        ("import os\nos.write(3, b'{}')", "os.write"),
        ("import io\nf = io.open('x')", "files"),
        ("import kernelwright.tools.worker.candidate as c", "checker"),
        ("from torch.utils._python_dispatch import _disable_current_modes", "private"),
        ("with torch.utils._python_dispatch._disable_current_modes():\n    pass", "private"),
        ("import numpy as np", "host"),
        ("y = x.numpy()", "host compute"),
        ("object.__setattr__(torch, 'equal', lambda *a: True)", "hidden"),
        ("lower = torch.set_float32_matmul_precision\nlower('high')", "process-wide"),
        ("f = torch._C._set_cublas_allow_tf32", "private"),
        # Modules another module imported: reached without importing them.
        ("guards = torch.sys.modules['kernelwright.tools.check.guards']", "module sys"),
        ("from torch import sys", "interpreter internals"),
        ("import logging\nlogging.os.system('true')", "logging.os.system"),
        ("s = getattr(torch, 'sys')", "module sys"),
        # Constant-name getattr is judged like the attribute it names.
        ("f = getattr(getattr(x, 'tb_frame'), 'f_back')", "tb_frame"),
        ("import operator\nup = operator.attrgetter('f_back')", "by name"),
        # Source text run by the standard library.
        ("import code\ncode.InteractiveInterpreter().runsource('import sys')", "source text"),
        ("import timeit\ntimeit.timeit('import sys', number=1)", "source text"),
        ("import pkgutil\ng = pkgutil.resolve_name('kernelwright.tools.check.guards')", "by name"),
        # Patching a module the checker uses (the event log's MAC went through hmac.new).
        ("import hmac\nhmac.new = lambda *a: None", "patches a module"),
        ("ser = torch.serialization\nser.save = lambda *a: None", "patches a module"),
        ("[torch][0].save = lambda *a: None", "may patch a module"),
    ],
)
def test_escape_hatches_out_of_the_runtime_guards_are_flagged(snippet, words):
    findings = scan_solution(HONEST_HEADER + "x = torch.zeros(1)\n" + snippet + "\n")
    assert findings, snippet
    assert words.lower() in " ".join(f.message.lower() for f in findings)


def test_names_that_look_like_modules_stay_allowed():
    # Attributes of local objects and torch ops named like modules are not module re-exports.
    src = HONEST_HEADER + (
        "dt = torch.float32\n"
        "class ModelNew(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.code = 3\n"
        "    def forward(self, x):\n"
        "        y = torch.empty(x.shape, dtype=dt)\n"
        "        return y.view(-1).reshape(x.shape) if self.code and hasattr(x, 'shape') else y\n"
    )
    assert scan_solution(src) == []


def test_os_path_helpers_stay_allowed():
    assert scan_solution(HONEST_HEADER + "import os\nname = os.path.basename(os.path.join('a', 'b'))\nn = os.cpu_count()\n") == []


# ---- issue 16, class 3: what a chain reaches, however it is written ---------------------------


@pytest.mark.parametrize(
    "snippet, verdict, words",
    [
        ("m = torch.sys.modules['gc']", Verdict.STATIC_VIOLATION, "module sys"),
        ("from torch import ctypes", Verdict.STATIC_VIOLATION, "imports torch.ctypes"),
        ("from torch import sys as s", Verdict.STATIC_VIOLATION, "imports torch.sys"),
        ("torch.os.system('true')", Verdict.STATIC_VIOLATION, "shell"),
        ("np = torch.nn.functional.np", Verdict.STATIC_VIOLATION, "module numpy"),
        ("g = torch.cuda.graphs.gc", Verdict.STATIC_VIOLATION, "module gc"),
        ("i = torch.inspect.currentframe()", Verdict.STATIC_VIOLATION, "module inspect"),
        ("b = torch.builtins.exec", Verdict.STATIC_VIOLATION, "module builtins"),
        ("P = torch.multiprocessing.Process", Verdict.STATIC_VIOLATION, "multiprocessing"),
        ("p = torch.profiler.profile", Verdict.STATIC_VIOLATION, "profiler"),
        ("off = getattr(torch.utils, '_python_dispatch')._disable_current_modes", Verdict.STATIC_VIOLATION, "private"),
        ("c = getattr(torch, '_C')", Verdict.STATIC_VIOLATION, "private"),
        ("run = exec\nrun('x = 1')", Verdict.STATIC_VIOLATION, "reaches exec"),
        ("b = __builtins__", Verdict.STATIC_VIOLATION, "builtins namespace"),
        ("g = getattr(triton.runtime.jit.JITFunction.run, '__globals__')", Verdict.STATIC_VIOLATION, "__globals__"),
        ("import operator\nget = operator.attrgetter('f_back')", Verdict.STATIC_VIOLATION, "f_back"),
        ("seed = torch.random.manual_seed\nseed(1)", Verdict.GLOBAL_STATE, "process-wide"),
        ("ops = torch.ops\nops.aten.mul.__name__ = 'view'", Verdict.GLOBAL_STATE, "patches"),
        ("j = triton.runtime.jit\ndel j.JITFunction.run", Verdict.GLOBAL_STATE, "patches"),
        ("def f(x):\n    x.apply_(abs)", Verdict.TORCH_COMPUTE, "on the host"),
        ("def f(x, y):\n    x.map2_(x, y, max)", Verdict.TORCH_COMPUTE, "on the host"),
        ("base = torch.Tensor.__base__", Verdict.STATIC_VIOLATION, "__base__"),
    ],
)
def test_chains_are_judged_by_what_they_reach(snippet, verdict, words):
    findings = scan_solution(HONEST_HEADER + snippet + "\n")
    assert findings, snippet
    assert findings[0].verdict is verdict, findings
    assert words.lower() in " ".join(f.message.lower() for f in findings), findings
    assert findings[0].line > 4


def test_aliases_of_allowed_things_stay_allowed():
    src = HONEST_HEADER + (
        "import os\nfrom torch import nn as tnn\nimport torch.nn.functional as F\n"
        "empty = torch.empty_like\ncdiv = getattr(triton, 'cdiv')\nlibdevice = tl.extra.cuda.libdevice\n"
        "relu = F.relu\nEvent = torch.cuda.Event\nsync = torch.cuda.synchronize\ngetenv = os.getenv\n"
        "class ModelNew(tnn.Module):\n"
        "    def forward(self, x):\n"
        "        w = getattr(self, 'weight', None)\n"
        "        open_ = 1  # a local name like a builtin's\n"
        "        return empty(x), cdiv(4, 2), x.T, x.mT, x.swapaxes(0, 1), triton.Config, triton.autotune, tl.program_id\n"
    )
    assert scan_solution(src) == []


def test_an_attribute_store_on_an_unnamed_expression_is_judged_by_its_root():
    # `[torch][0].relu = ...` patches a module through an expression the scan cannot name.
    cheat = scan_solution(HONEST_HEADER + "[torch][0].relu = lambda x: x\n")
    assert cheat and "on an expression" in cheat[0].message
    # The honest twin: the model's own submodules, reached through an index.
    honest = HONEST_HEADER + "class M:\n    def __init__(self):\n        self.layers = [object()]\n        self.layers[0].bias = None\n"
    assert not scan_solution(honest)
