"""The GPU's own account of what ran: an independent witness for the op accounting.

The op accounting and the launch counter live in the candidate's process; a candidate that got
past them (tampering with their state, or computing where they do not look) still has to run its
work on the GPU, and the GPU profiler (CUPTI, through torch.profiler, started by the checker and
reached only through private torch APIs the static scan rejects or native code the audit
refuses) lists every kernel that ran. During the checked calls and the profiled timed calls that
list may hold only
- the solution's own kernels: the Triton kernels defined in the solution file (a Triton kernel
  runs under its function's name) and the `__global__` functions of its CUDA sources (by their
  identifier inside the mangled name), found by the parent in the solution's source, not
  reported by the child;
- torch kernels that allocate, fill or copy (`torch.empty`, `zeros`, `.contiguous()`, casts,
  `cat`, constant padding, memcpy/memset), which the op accounting allows too.
Anything else is torch computing for the candidate: `torch_compute`, naming the kernels.
"""

from __future__ import annotations

import ast
import dataclasses
import re

from kernelwright.tools import pyast

# torch's data-movement kernels, by the functors and kernel names they compile to.
DATA_MOVEMENT_KERNELS = re.compile(
    r"FillFunctor|fill_kernel|copy_kernel|direct_copy|CopyFunctor|CatArrayBatchedCopy|cat_array|Memcpy|Memset|memcpy|memset"
    r"|constant_pad|ConstantPadNd|pad_kernel|reflection_pad|replication_pad|flip_kernel|roll_cuda_kernel"
    r"|elementwise_kernel_with_index<.*arange|cast_kernel|_to_copy|clone_kernel|contiguous",
    re.IGNORECASE,
)
TIMING_MARKERS = ("spin_kernel",)  # torch.cuda._sleep: the checker's head start, not the candidate's
GLOBAL_FUNCTION = re.compile(r"__global__\s+(?:[\w:<>]+\s+)+?(\w+)\s*\(")
LAUNCH_BOUNDS = re.compile(r"__launch_bounds__\s*\([^)]*\)")


def own_kernel_names(source: str) -> frozenset[str]:
    """Names of the kernels the solution defines: `@triton.jit` functions (however decorated)
    and `__global__` functions in its string constants (CUDA sources for load_inline)."""
    names: set[str] = set()
    tree = pyast.parse(source)  # under the lock: checks run in parallel threads (see pyast)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any("jit" in ast.unparse(d) for d in node.decorator_list):
            names.add(node.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "__global__" in node.value:
            names.update(GLOBAL_FUNCTION.findall(LAUNCH_BOUNDS.sub(" ", node.value)))
    return frozenset(names)


def _is_own(kernel: str, own: frozenset[str]) -> bool:
    if kernel in own:
        return True
    # A CUDA kernel's mangled name holds its identifier as <length><name> (`_Z10add_kernelPfS_i`).
    return any(re.search(rf"(?<!\d){len(name)}{re.escape(name)}|\b{re.escape(name)}\b(?=[<(])", kernel) for name in own)


@dataclasses.dataclass(frozen=True)
class Testimony:
    """What the profiler saw, judged."""

    foreign: tuple[str, ...]  # kernels neither the solution's nor data movement
    own_seen: bool  # at least one of the solution's kernels ran

    @property
    def clean(self) -> bool:
        return not self.foreign


def judge_kernels(kernels: list[str], own: frozenset[str]) -> Testimony:
    foreign: list[str] = []
    own_seen = False
    for kernel in kernels:
        if kernel.startswith(TIMING_MARKERS):
            continue
        if _is_own(kernel, own):
            own_seen = True
        elif not DATA_MOVEMENT_KERNELS.search(kernel):
            foreign.append(kernel)
    return Testimony(tuple(sorted(set(foreign))), own_seen)


def describe(foreign: tuple[str, ...], limit: int = 4) -> str:
    shown = [k if len(k) <= 100 else k[:97] + "..." for k in foreign[:limit]]
    more = f" and {len(foreign) - limit} more" if len(foreign) > limit else ""
    return "; ".join(shown) + more
