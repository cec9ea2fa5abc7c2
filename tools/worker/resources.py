"""Child worker: compile the solution's own kernels for a CUDA target, on a machine without a GPU.

For each launch signature recorded under the interpreter it rebuilds the launch's specialization
(Triton's own binder where available: alignment, `== 1` and divisibility-by-16 specialization,
annotations and defaults as a real launch would see them), compiles with `triton.compile` for
`GPUTarget("cuda", arch, 32)` and reads registers and spills from the ptxas log that Triton prints
when TRITON_DUMP_PTXAS_LOG is set (TRITON_ALWAYS_COMPILE makes sure ptxas runs every time).
Results are rewritten to `result_path` after every kernel, so a crash keeps what was done.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from kernelwright.tools.worker.events import KernelArg, KernelSignature
from kernelwright.tools.worker.kernel_source import SourceKernels, kernels_from_source
from kernelwright.tools.worker.resources_protocol import KernelResources, ResourcesRequest

# torch dtype name -> Triton pointer element type (manual fallback only).
PTR_TYPES = {
    "float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "float64": "fp64",
    "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8",
    "uint16": "u16", "uint32": "u32", "uint64": "u64", "bool": "i1",
    "float8_e4m3fn": "fp8e4nv", "float8_e5m2": "fp8e5", "float8_e4m3fnuz": "fp8e4b8",
    "float8_e5m2fnuz": "fp8e5b16",
}
# PTX opcode prefixes counted for the instruction-mix summary (static counts, not executed).
PTX_MIX = {
    "ld_global": ("ld.global",), "st_global": ("st.global",),
    "ld_shared": ("ld.shared", "ldmatrix"), "st_shared": ("st.shared", "stmatrix"),
    "cp_async": ("cp.async",), "mma": ("mma.sync",), "wgmma": ("wgmma.mma_async",), "tcgen05_mma": ("tcgen05.mma",),
    "bar_sync": ("bar.sync", "barrier.sync"), "atomic": ("atom.", "red."),
}
_OPCODE = re.compile(r"^\s*(?:@!?%\w+\s+)?([a-z][\w.]*)", re.M)


class Unsupported(Exception):
    """A recorded argument that cannot be rebuilt for a static compile (the checker's limit)."""


class NotTopLevel(Exception):
    """The launched kernel is not a function at the solution's top level (the kernel's fault:
    the check compiles kernels from their source, never by running the solution)."""


def find_kernel(source: SourceKernels, name: str, line: int | None = None) -> Any:
    """The kernel `name` rebuilt from the file's source; `line`: the first line of the function the
    candidate launched (another function of that name defined elsewhere is not this one)."""
    fn = source.kernels.get(name)
    if fn is None or (line is not None and source.first_lines.get(name) != line):
        where = f" (launched from line {line})" if line is not None else ""
        raise NotTopLevel(f"kernel {name!r}{where} is not a function at the top level of the solution file: define each "
                          "@triton.jit kernel at module level (the check compiles kernels from the file's source)")
    if name in source.unsound:
        raise NotTopLevel(source.unsound[name])
    return fn


def fake_value(arg: KernelArg, source: SourceKernels | None = None) -> Any:
    """A stand-in with what specialization looks at: dtype and 16-byte alignment, or the value."""
    import torch

    kind = arg.kind
    if kind == "tensor":
        dtype = getattr(torch, arg.dtype or "", None)
        if not isinstance(dtype, torch.dtype):
            raise Unsupported(f"argument {arg.name}: unknown dtype {arg.dtype}")
        return torch.empty(1, dtype=dtype)
    if kind == "constexpr":
        return arg.value
    if kind == "dtype":
        import triton.language as tl

        try:
            return tl.dtype(str(arg.value))  # "fp16" -> tl.float16
        except Exception as exc:  # noqa: BLE001 - a name this Triton does not know
            raise Unsupported(f"argument {arg.name}: unknown Triton dtype {arg.value}") from exc
    if kind == "jit_function" and source is not None:
        return find_kernel(source, str(arg.value), arg.line)  # the top-level function, or the kernel's fault
    if kind in ("int", "float", "bool"):
        return arg.value
    if kind == "none":
        return None
    raise Unsupported(f"argument {arg.name}: cannot rebuild {arg.repr or kind}")


# `kwargs`: a launch's keyword arguments as Triton binds them (tensors, scalars, constexprs of any
# type the kernel declares): free-form by nature, passed to Triton's own binder as they are.
def binder_spec(fn: Any, kwargs: dict[str, Any], backend: Any) -> tuple[dict, dict, dict, dict]:
    """(signature, constexprs, attrs, options) exactly as `JITFunction.run` builds them (3.6, 3.7)."""
    from triton.runtime.jit import create_function_from_signature

    binder = create_function_from_signature(fn.signature, fn.params, backend)
    bound, specialization, options = binder(**kwargs)
    options, signature, constexprs, attrs = fn._pack_args(backend, kwargs, bound, specialization, options)
    return signature, constexprs, attrs, dict(options.__dict__)


def manual_spec(fn: Any, kwargs: dict[str, Any]) -> tuple[dict, dict, dict, dict]:  # kwargs: as binder_spec's
    """The same from the public ASTSource API only, for a Triton whose binder moved."""
    import inspect

    import torch

    divisible = [["tt.divisibility", 16]]
    signature: dict[str, str] = {}
    constexprs: dict[tuple[int, ...], Any] = {}
    attrs: dict[tuple[int, ...], Any] = {}
    params = inspect.signature(fn.fn).parameters
    for i, name in enumerate(fn.arg_names):
        value = kwargs[name] if name in kwargs else params[name].default
        if value is inspect.Parameter.empty:
            raise Unsupported(f"argument {name}: not recorded and has no default")
        if i in fn.constexprs or value is None or (type(value) is int and value == 1):
            signature[name], constexprs[(i,)] = "constexpr", value
        elif isinstance(value, torch.Tensor):
            signature[name], attrs[(i,)] = "*" + PTR_TYPES[str(value.dtype).removeprefix("torch.")], divisible
        elif isinstance(value, bool):
            signature[name] = "u1"
        elif isinstance(value, int):
            signature[name] = "i32" if -(2**31) <= value < 2**31 else "i64" if -(2**63) <= value < 2**63 else "u64"
            if value % 16 == 0:
                attrs[(i,)] = divisible
        elif isinstance(value, float):
            signature[name] = "fp32"
        else:
            raise Unsupported(f"argument {name}: no Triton type for {type(value).__name__}")
    options = {k: kwargs[k] for k in ("num_warps", "num_stages") if k in kwargs}
    return signature, constexprs, attrs, options


def parse_ptxas_log(log: str) -> dict[str, int]:
    """Registers of the entry function; spills summed over it and any noinline callees."""

    def nums(pattern: str) -> list[int]:
        return [int(v) for v in re.findall(pattern, log)]

    registers = nums(r"Used (\d+) registers")
    if not registers:
        raise RuntimeError("ptxas printed no resource usage (TRITON_DUMP_PTXAS_LOG ignored?)")
    return {
        "registers": registers[0],
        "spills": sum(nums(r"(\d+) bytes spill stores")),
        "spill_loads": sum(nums(r"(\d+) bytes spill loads")),
        "stack_bytes": max(nums(r"(\d+) bytes stack frame"), default=0),
    }


def ptx_mix(ptx: str) -> dict[str, int]:
    ops = _OPCODE.findall(ptx)
    mix = {key: sum(op.startswith(prefixes) for op in ops) for key, prefixes in PTX_MIX.items()}
    return {"ptx_lines": ptx.count("\n"), **mix}


def compile_one(source: SourceKernels, sig: KernelSignature, arch: int) -> KernelResources:
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    from triton.compiler.compiler import make_backend

    fn = find_kernel(source, sig.kernel, sig.line)
    kwargs = {a.name: fake_value(a, source) for a in sig.args}
    kwargs.update(num_warps=sig.num_warps, num_stages=sig.num_stages)
    target = GPUTarget("cuda", arch, 32)
    try:
        signature, constexprs, attrs, options = binder_spec(fn, kwargs, make_backend(target))
    except (ImportError, AttributeError):
        signature, constexprs, attrs, options = manual_spec(fn, kwargs)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        compiled = triton.compile(ASTSource(fn, signature, constexprs, attrs), target=target, options=options)
    meta = compiled.metadata
    return {
        "kernel": sig.kernel,
        "arch": f"sm_{arch}",
        "triton": triton.__version__,
        **parse_ptxas_log(log.getvalue()),
        "shared_bytes": int(meta.shared),
        "num_warps": int(meta.num_warps),
        "num_stages": int(meta.num_stages),
        **ptx_mix(compiled.asm.get("ptx", "")),
        "error": None,
    }


def one_line(exc: BaseException) -> str:
    # A call into another function that fails to compile raises at the call, caused by the callee's error.
    while type(exc).__name__ == "CompilationError" and type(exc.__cause__).__name__ == "CompilationError":
        exc = exc.__cause__
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [""]
    if isinstance(exc, Unsupported):
        return lines[0][:300]
    # Triton's CompilationError puts the source excerpt first, a caret line under it, the reason last.
    reasons = [ln for ln in lines if ln.strip(" ^")] or lines
    text = reasons[-1] if type(exc).__name__ == "CompilationError" else lines[0]
    return f"{type(exc).__name__}: {text}"[:300]


def main(request_text: str) -> int:
    os.environ.pop("TRITON_INTERPRET", None)
    os.environ["TRITON_DUMP_PTXAS_LOG"] = "1"
    os.environ["TRITON_ALWAYS_COMPILE"] = "1"
    req = ResourcesRequest.model_validate_json(request_text)  # before the solution's code loads
    out = Path(req.result_path)
    results: list[KernelResources] = []
    source: SourceKernels | None = None
    try:
        source = kernels_from_source(req.solution)  # the solution's kernels, none of its other code run
    except Exception as exc:  # every kernel gets the reason
        import_error = f"reading the solution's kernels failed: {one_line(exc)}"
    for sig in req.signatures:
        try:
            if source is None:
                raise Unsupported(import_error)
            results.append(compile_one(source, sig, req.arch))
        except Unsupported as exc:  # the checker's limit: the kernel is neither valid nor invalid
            results.append({"kernel": sig.kernel, "error": str(exc), "unverified": True})
        except Exception as exc:  # the solution's fault: one error entry, keep going
            results.append({"kernel": sig.kernel, "error": str(exc) if isinstance(exc, NotTopLevel) else one_line(exc)})
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(results, default=str))  # default=str: a Triton version object
        tmp.replace(out)
    return 0
