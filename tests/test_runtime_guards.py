"""Defense in depth: with the static scan off, the runtime guards still catch each cheat."""

import pytest

from kernelwright.tools.check.verdicts import Verdict
from kernelwright.tools.check.verify import CheckOptions, verify_solution

from paths import PROBLEMS, SOLUTIONS

LAUNCH = "        gelu_scale_kernel[(triton.cdiv(n, BLOCK),)](x, y, n, self.scale, BLOCK=BLOCK)\n"


def variant_of_gelu(tmp_path, before_launch: str = "", header: str = "") -> str:
    src = (SOLUTIONS / "gelu_scale.py").read_text()
    assert LAUNCH in src
    src = header + src.replace(LAUNCH, before_launch + LAUNCH)
    path = tmp_path / "candidate.py"
    path.write_text(src)
    return path


def check(path):
    opts = CheckOptions(device="cpu", trials=1, variants=False, static_scan=False, static_resources=False, timeout_s=60)
    return verify_solution(PROBLEMS / "gelu_scale.py", path, opts)


@pytest.mark.parametrize(
    "before_launch, header, verdict, words",
    [
        ("        threading.Thread(target=lambda: None).start()\n        import time; time.sleep(0.05)\n", "", Verdict.STATIC_VIOLATION, "thread"),
        ("        threading.Thread(target=lambda: __import__('time').sleep(2), daemon=True).start()\n", "", Verdict.STATIC_VIOLATION, "thread"),
        ("        torch.set_num_threads(1)\n", "", Verdict.GLOBAL_STATE, "num_threads"),
        ("        torch.backends.cudnn.benchmark = not torch.backends.cudnn.benchmark\n", "", Verdict.GLOBAL_STATE, "cudnn.benchmark"),
        ("        torch.manual_seed(1234)\n", "", Verdict.GLOBAL_STATE, "RNG"),
        ("", "import torch as _t\n_t.set_default_dtype(_t.float64)\n", Verdict.GLOBAL_STATE, "default_dtype"),
    ],
    ids=["finished-thread", "running-thread", "num-threads", "cudnn-flag", "rng-reseed", "import-time-dtype"],
)
def test_runtime_guards_catch_what_the_scan_would(tmp_path, before_launch, header, verdict, words):
    path = variant_of_gelu(tmp_path, before_launch, "import threading\n" + header)
    r = check(path)
    assert r.verdict is verdict, r.reasons
    assert words.lower() in " ".join(x.message for x in r.reasons).lower()
