"""On the CPU, an accepted kernel must also compile for a GPU.

Triton's CPU interpreter runs a kernel's body as Python: code that no GPU compiler accepts (numpy
on a pointer's `.handle.data`, Python calls, loops over values read out of tensors) runs there
and can compute the answer outside any kernel. The static sm_90 compile (`tools.resources`)
rebuilds every kernel specialization the candidate launched from the file's source, without
running the solution, and compiles it with Triton's own compiler. A kernel it rejects is a
compile error; one it could not compile for a reason of its own (an argument it cannot rebuild, a
compiler that crashed or ran out of time, more specializations than it records) leaves the
candidate unverified on this machine: `needs_gpu`, never accepted.
"""

from __future__ import annotations

from kernelwright.tools.check.guards import MAX_SIGNATURES
from kernelwright.tools.check.verdicts import Reason, Verdict
from kernelwright.tools.worker.resources_protocol import KernelResources


def gpu_compile_reason(resources: list[KernelResources], signatures_dropped: int) -> Reason | None:
    """Why an otherwise accepted CPU check is not accepted, from the static compile's entries."""
    invalid = [r for r in resources if r.get("error") and not r.get("unverified")]
    if invalid:
        first = invalid[0]
        return Reason("gpu_compile", f"kernel {first['kernel']} does not compile for a GPU (sm_90): {first['error']} "
                      "(Triton's CPU interpreter ran it as Python; a GPU cannot)", Verdict.COMPILE_ERROR)
    unverified = [r for r in resources if r.get("error")]
    if unverified:
        first = unverified[0]
        return Reason("gpu_compile", f"kernel {first['kernel']} could not be compiled for a GPU here: {first['error']}; "
                      "run the check on a GPU (--device cuda)", Verdict.NEEDS_GPU)
    if signatures_dropped:
        return Reason("gpu_compile", f"the solution launched more than {MAX_SIGNATURES} distinct kernel specializations; "
                      "the CPU check compiles each for a GPU and stops there: run the check on a GPU (--device cuda)", Verdict.NEEDS_GPU)
    return None
