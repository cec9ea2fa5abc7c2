"""Child entry point that becomes `ncu ... python -m kernelwright.tools.worker.profile_run REQ`.

`run_child` starts Python modules only; this one replaces itself (exec, same process) with
Nsight Compute wrapping the profiling worker, so ncu and the candidate's forward run inside the
sandbox: the child's process group, timeout and environment allow-list apply to both.
`python -m kernelwright.tools.worker.profile_ncu_launch REQUEST.json` with {"ncu_argv": [...],
"target_request": PATH}.
"""

from __future__ import annotations

import json
import os
import sys


def main(req: dict) -> int:
    argv = [*req["ncu_argv"], sys.executable, "-m", "kernelwright.tools.worker.profile_run", req["target_request"]]
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 127  # pragma: no cover - execv does not return


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:  # plain json: importing torch here would only slow ncu's start
        sys.exit(main(json.load(fh)))
