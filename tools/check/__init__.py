"""Judging a candidate: the static scan, the sandboxed children, the runtime guards, the comparison, timing and the verdict."""
