"""Do the expert's GPU configurations fit an sm_90 SM? Checked on a machine without a GPU.

For each config, the solution is generated with that config alone, its forward is run on meta
tensors at the problem's shipped (GPU) sizes up to the kernel launch, which is recorded instead
of executed, and the recorded launch is compiled for sm_90 by `tools.resources` (registers,
spills, shared memory, wgmma/mma counts from the real ptxas). Nothing touches a GPU.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
from pathlib import Path

import torch

from kernelwright.agents.expert.configs import Config
from kernelwright.agents.expert.ir import _as_list
from kernelwright.agents.expert.solution import generate
from kernelwright.agents.expert.tracing import Traced
from kernelwright.tools.check.launch_counting import _describe_arg
from kernelwright.tools.resources import compile_resources
from kernelwright.tools.worker.launch_signature import LaunchSignature


@dataclasses.dataclass(frozen=True)
class ConfigFit:
    """How one config's kernel compiles for sm_90: `tools.resources`' numbers for it, or why not."""

    config: str  # the config's knobs (`Config.text`)
    kernel: str
    error: str | None  # None: compiled, the numbers below are set
    registers: int | None = None  # per thread
    spills: int | None = None  # bytes spilled to local memory (stores)
    shared_bytes: int | None = None
    num_warps: int | None = None
    wgmma: int | None = None  # Hopper tensor-core instructions in the PTX
    mma: int | None = None  # pre-Hopper tensor-core instructions


_RESOURCE_FIELDS = ("registers", "spills", "shared_bytes", "num_warps", "wgmma", "mma")  # read from tools' entry


class _Recorded(Exception):
    """Raised by the patched launch: carries the launch signature instead of running the kernel."""

    def __init__(self, signature: LaunchSignature) -> None:
        super().__init__(signature["kernel"])
        self.signature = signature


# The launch signature is the JSON that tools.check.guards.LaunchCounter records and
# tools.resources compiles (kernel, file, args, num_warps, num_stages); tools owns its format.
def record_launch(solution_path: Path, t: Traced) -> LaunchSignature:
    """The launch signature (as tools.guards.LaunchCounter records it) of the solution's kernel
    at the problem module's sizes, from a forward on meta tensors that stops at the launch."""
    from triton.runtime.jit import JITFunction

    spec = importlib.util.spec_from_file_location("kw_fit_solution", str(solution_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(self, *args, grid, warmup, **kwargs):
        params = list(inspect.signature(self.fn).parameters)
        notes = getattr(self.fn, "__annotations__", {})
        bound = dict(zip(params, args))
        bound.update({k: v for k, v in kwargs.items() if k in params})
        raise _Recorded({
            "kernel": self.fn.__name__, "file": str(solution_path),
            "args": [_describe_arg(p, bound[p], "constexpr" in str(notes.get(p, ""))) for p in params if p in bound],
            "num_warps": kwargs.get("num_warps", 4), "num_stages": kwargs.get("num_stages", 3),
        })

    classes = [JITFunction]
    try:
        from triton.runtime.interpreter import InterpretedFunction

        classes.append(InterpretedFunction)
    except ImportError:  # pragma: no cover - every supported Triton has it
        pass
    originals = [cls.run for cls in classes]
    for cls in classes:
        cls.run = run
    try:
        with torch.device("meta"):
            model = module.ModelNew(*_as_list(t.module.get_init_inputs()))
            inputs = _as_list(t.module.get_inputs())
        try:
            model(*inputs)
        except _Recorded as launch:
            return launch.signature
    finally:
        for cls, saved in zip(classes, originals):
            cls.run = saved
    raise RuntimeError(f"{solution_path}: the forward launched no kernel")


def fit_report(t: Traced, problem_source: str, configs: list[Config], workdir: Path, timeout_s: float = 300.0) -> list[ConfigFit]:
    """How each config's kernel compiles for sm_90, in order."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = []
    for i, c in enumerate(configs):
        path = workdir / f"fit_{i}.py"
        path.write_text(generate(t, problem_source, [c], "cuda"))
        sig = record_launch(path, t)
        [entry] = compile_resources(path, [sig], workdir / f"compile_{i}", timeout_s)
        out.append(ConfigFit(config=c.text(t.family), kernel=entry["kernel"], error=entry.get("error"),
                             **{f: entry.get(f) for f in _RESOURCE_FIELDS}))
    return out

