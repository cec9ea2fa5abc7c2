"""Deterministic tools: problem loading, sandboxed execution, verification, timing."""
