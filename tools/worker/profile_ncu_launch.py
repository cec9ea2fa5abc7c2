"""Child entry point that becomes `ncu ... python -m kernelwright.tools.worker.profile_run REQ`.

`run_child` starts Python modules only; this one replaces itself (exec, same process) with
Nsight Compute wrapping the profiling worker, so ncu and the candidate's forward run inside the
sandbox: the child's process group, timeout and environment allow-list apply to both.
`python -m kernelwright.tools.worker.profile_ncu_launch REQUEST.json` with {"ncu_argv": [...],
"target_request": PATH}.
"""

from __future__ import annotations

import os
import sys

from kernelwright.tools.worker.profile_protocol import NcuLaunchRequest, read_request


def main(req: NcuLaunchRequest) -> int:
    argv = [*req.ncu_argv, sys.executable, "-m", "kernelwright.tools.worker.profile_run", req.target_request]
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 127  # pragma: no cover - execv does not return


if __name__ == "__main__":
    # profile_protocol imports no torch: importing it here would only slow ncu's start.
    sys.exit(main(read_request(NcuLaunchRequest, sys.argv[1])))
