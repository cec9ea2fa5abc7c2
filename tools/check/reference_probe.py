"""Does the problem's reference itself run? The reference step of `kernelwright check` alone.

A run learns that its problem is broken in its first check. When its roles fail before any
candidate reaches a check (the expert policy cannot trace a model whose forward raises), the
run asks this instead, so that a broken reference is bad input (exit 2) for `run` as it is for
`check`, not a failed run. The reference runs as check runs it: in a sandboxed child, on the
run's device, at the sizes check would use.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from kernelwright.tools.check.tolerance import load_tolerances
from kernelwright.tools.check.verify import CheckOptions, plan_cases
from kernelwright.tools.problem import load_problem
from kernelwright.tools.sandbox.child import scratch_root


def require_reference_runs(problem_path: str | Path, opts: CheckOptions) -> None:
    """Run the reference once as check does; InputError ("the reference itself fails to run: ...")
    if it raises. Checker failures (CheckerFailure) propagate: they are no verdict on the problem."""
    from kernelwright.tools.check.children import CheckFolder, ReferenceChild
    from kernelwright.tools.devices import resolve_device

    problem = load_problem(problem_path)
    opts = dataclasses.replace(opts, tolerances=load_tolerances(problem.path))
    device = resolve_device(opts.device)
    tolerances = {name: list(opts.tolerances.table[name]) for name in opts.tolerances.table}
    variants = [v.model_copy(update={"tolerances": tolerances}) for v in plan_cases(problem, opts, device)]
    folder = CheckFolder(Path(tempfile.mkdtemp(prefix="kw-refprobe-", dir=scratch_root())), problem, None)
    reference = ReferenceChild(problem, variants, device, opts, folder, serve=False)
    try:
        reference.outputs()
    finally:
        reference.close()
        shutil.rmtree(folder.root, ignore_errors=True)
