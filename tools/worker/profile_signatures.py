"""Child worker: one forward of the candidate to record its Triton launches, for the static tier.

`python -m kernelwright.tools.worker.profile_signatures REQUEST.json`. The check's launch counter
records each own kernel's argument signature (dtypes, ints and constexprs, num_warps), which is
what `compile_resources` needs to compile the kernel for a GPU target. On the CPU (Triton's
interpreter) the solution's own kernels are recorded but not executed: the compile needs the
launch, not its result, so the forward costs the same at any problem size. On a GPU they run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from kernelwright.tools.worker.common import device_sync
from kernelwright.tools.worker.profile_common import StageFailed, build_subject, count_launches, finish
from kernelwright.tools.worker.profile_protocol import SignaturesAnswer, SignaturesRequest, read_request


def skip_own_launches(solution_path: str) -> None:
    """Make launches of kernels defined in the solution file return without running (installed
    under the launch counter, which still records them)."""
    from triton.runtime.jit import JITFunction

    classes: list[type] = [JITFunction]
    try:
        from triton.runtime.interpreter import InterpretedFunction

        classes.append(InterpretedFunction)
    except ImportError:  # pragma: no cover
        pass
    target = str(Path(solution_path).resolve())

    def wrap(original):
        def run(jit_self, *args, grid, warmup, **kwargs):
            code = getattr(getattr(jit_self, "fn", None), "__code__", None)
            if not warmup and code is not None and str(Path(code.co_filename).resolve()) == target:
                return None
            return original(jit_self, *args, grid=grid, warmup=warmup, **kwargs)

        return run

    for cls in classes:
        cls.run = wrap(cls.run)


def main(req: SignaturesRequest) -> int:
    interpret = os.environ.get("TRITON_INTERPRET") == "1"
    if interpret:
        skip_own_launches(req.solution_path)
    launches = count_launches(req.solution_path)
    result: SignaturesAnswer = {"ok": False, "executed": not interpret}
    try:
        with torch.inference_mode():
            model, inputs = build_subject(req)
            try:
                model(*inputs)
                device_sync(torch.device(req.device))
            except Exception as exc:  # noqa: BLE001
                raise StageFailed("forward", exc) from exc
        result["ok"] = True
    except StageFailed as exc:
        result.update(stage=exc.stage, error=exc.text)
    return finish(req, result, launches)


if __name__ == "__main__":
    sys.exit(main(read_request(SignaturesRequest, sys.argv[1])))
