"""What the parent and the resources child (`worker.resources`) say to each other: the kernels to
compile, and per kernel its resource numbers or the reason it did not compile.

The child rebuilds the solution's kernels from its source (`worker.kernel_source`: none of the
solution's other code runs there); the parent still reads its answer strictly (`tools.resources`). An entry stays a dict (a TypedDict): the static profile tier and the
expert's fit report extend it with fields of their own.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict

from kernelwright.tools.worker.events import KernelSignature


class ResourcesRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    solution: str
    signatures: list[KernelSignature]
    arch: int = 90
    result_path: str


@with_config(ConfigDict(extra="forbid", strict=True))
class KernelResources(TypedDict, total=False):
    """One kernel compiled for `arch`: ptxas' registers and spills, Triton's shared memory, warps
    and stages, a static PTX instruction mix; or only `kernel` and `error`."""

    kernel: str
    error: str | None
    # With an error: True when the checker could not compile the kernel (a launch argument it
    # cannot rebuild, a child that crashed or ran out of time), not because the kernel is invalid.
    unverified: bool
    arch: str
    triton: str
    registers: int
    spills: int
    spill_loads: int
    stack_bytes: int
    shared_bytes: int
    num_warps: int
    num_stages: int
    ptx_lines: int
    ld_global: int
    st_global: int
    ld_shared: int
    st_shared: int
    cp_async: int
    mma: int
    wgmma: int
    tcgen05_mma: int
    bar_sync: int
    atomic: int


RESOURCES: TypeAdapter[list[KernelResources]] = TypeAdapter(list[KernelResources])
