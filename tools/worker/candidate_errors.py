"""Which verdict an exception raised in the candidate's process names: a kernel the CPU's
interpreter cannot run, a build failure, the refused launch while ModelNew is built, or a runtime
error (the candidate worker's and its timing's shared reading)."""

from __future__ import annotations

from kernelwright.tools.check import guards


def classify_exception(exc: BaseException) -> str:
    """needs_gpu for what Triton's CPU interpreter cannot run (`interpreter_fidelity.NeedsGpu`,
    however deep in the chain), compile_error for Triton/C++ build failures, runtime_error else."""
    if _needs_gpu(exc):
        return "needs_gpu"
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, guards.LaunchBeforeCalls) or "SubclassedTensor" in names:
        return "static_violation"
    module = type(exc).__module__ or ""
    if names & {"CompilationError", "CompileTimeAssertionFailure", "SyntaxError", "ImportError", "KernelBodyError"} or (
        "triton.compiler" in module
    ):
        return "compile_error"
    if "Error building extension" in str(exc):
        return "compile_error"
    return "runtime_error"


def _needs_gpu(exc: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if type(cause).__name__ == "NeedsGpu":
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
