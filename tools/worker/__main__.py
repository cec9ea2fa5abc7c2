"""`python -m kernelwright.tools.worker ROLE REQUEST.json`: the sandboxed child's entry point."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    role, request_path = argv
    from pathlib import Path

    request = Path(request_path).read_text()  # each role reads it into its own request record
    if role == "reference":
        from kernelwright.tools.worker import reference as worker
    elif role == "candidate":
        from kernelwright.tools.worker import candidate as worker
    elif role == "baselines":
        from kernelwright.tools.worker import baselines as worker
    elif role == "peaks":
        from kernelwright.tools.worker import peaks as worker
    elif role == "resources":
        from kernelwright.tools.worker import resources as worker
    else:
        print(f"unknown worker role {role!r}", file=sys.stderr)
        return 2
    return worker.main(request)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
