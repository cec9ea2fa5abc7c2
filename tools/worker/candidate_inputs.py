"""How the candidate's worker gets each trial's inputs, and what it seals so that the solution's
code cannot run while the worker makes them.

The inputs are made in the solution's process from the reference's recipe (`input_recipe`), or
read from the file the reference saved; either way outside the op accountant. So the names those
steps call through are sealed before the solution's code runs (`guards.NameSeal`), the problem's
module is loaded here but not left importable by name, and a trial (or the timing's pool) does
not start while anything sealed was replaced.
"""

from __future__ import annotations

import builtins
import copyreg
import pickle
import random
import sys
from pathlib import Path
from typing import Any

import torch

from kernelwright.tools.check import guards
from kernelwright.tools.check.dispatch_bypass import SWITCHES
from kernelwright.tools.worker.candidate_protocol import CandidateCase, CandidateRequest
from kernelwright.tools.worker.common import DTYPES, cast_inputs, load_module, load_tensors, seed_everything
from kernelwright.tools.worker.input_recipe import fingerprint, make_inputs

_rng = random.SystemRandom()  # the fresh seed after the inputs: the checker's own, not torch's RNG


def seal_worker_names() -> None:
    """Seal what the worker's own Python steps call through outside the accountant: drawing the
    inputs (torch's factories, the device context), cloning and fingerprinting them, saving the
    outputs (torch.save: serialization and storage code; red team pass 7 replaced
    torch.serialization.location_tag through a variable and rewrote the output as it was saved).
    Called last in the guards' installation, after the lazy imports that replace torch's own names
    (torch._dynamo wraps torch.manual_seed when first imported: a cold worker, which no zygote
    pre-imported, saw that as the solution's doing)."""
    import torch._dynamo  # noqa: F401
    import torch.serialization
    import torch.storage
    import torch.utils._device
    import torch.utils.flop_counter  # noqa: F401

    for label, owner in (("torch", torch), ("torch.nn.functional", torch.nn.functional), ("torch.Tensor", torch.Tensor),
                         ("torch.nn.Module", torch.nn.Module), ("torch.nn.init", torch.nn.init), ("torch.random", torch.random),
                         ("torch.cuda", torch.cuda), ("random", random), ("torch.serialization", torch.serialization),
                         ("torch.storage", torch.storage), ("torch.UntypedStorage", torch.UntypedStorage),
                         ("torch.TypedStorage", torch.TypedStorage), ("torch._utils", torch._utils), ("torch._tensor", torch._tensor),
                         ("torch.utils._device", torch.utils._device), ("torch.utils._device.DeviceContext", torch.utils._device.DeviceContext)):
        guards.NameSeal.watch(label, owner)
    # The registrations' counter and the wrapped switches (`dispatch_bypass`); pickle and copyreg:
    # torch.save pickles the outputs with them (red team pass 8 replaced pickle.Pickler).
    guards.NameSeal.watch("torch._C", torch._C, ("_dispatch_library", "_pop_torch_dispatch_stack", "_set_grad_enabled", "_InferenceMode",
                                                 *SWITCHES))
    guards.NameSeal.watch("pickle", pickle)
    # Builtins: the worker's steps after a call use them (red team pass 13 ran a self-removing hook
    # in a method those steps looked up; a replaced builtin would be the same route).
    guards.NameSeal.watch("builtins", builtins)
    # Classes whose Python methods run between a call's end and the first check (red team pass 14):
    # the accountant's mode base (its exit), the grad modes the call runs under (their exits), and
    # the backends' flag holders the global-state snapshot reads through.
    import torch.autograd.grad_mode as grad_mode
    import torch.backends
    import torch.backends.cuda
    import torch.backends.cudnn
    import torch.utils._python_dispatch as python_dispatch

    for label, owner in (("TorchDispatchMode", python_dispatch.TorchDispatchMode), ("torch.utils._python_dispatch", python_dispatch),
                         ("no_grad", grad_mode.no_grad), ("enable_grad", grad_mode.enable_grad),
                         ("inference_mode", grad_mode.inference_mode), ("set_grad_enabled", grad_mode.set_grad_enabled),
                         ("_NoParamDecoratorContextManager", grad_mode._NoParamDecoratorContextManager),
                         ("_DecoratorContextManager", grad_mode._DecoratorContextManager), ("torch.autograd.grad_mode", grad_mode),
                         ("cuBLASModule", torch.backends.cuda.cuBLASModule), ("ContextProp", torch.backends.ContextProp),
                         ("torch.backends", torch.backends), ("torch.backends.cuda", torch.backends.cuda),
                         ("CudnnModule", type(torch.backends.cudnn)), ("torch.backends.cudnn", torch.backends.cudnn)):
        guards.NameSeal.watch(label, owner)
    guards.NameSeal.watch("copyreg", copyreg)


def seal_broken() -> str | None:
    """Why the worker may not make inputs now (a sealed name was replaced), or None."""
    replaced = guards.NameSeal.replaced()
    if not replaced:
        return None
    return (f"the solution changed {', '.join(replaced[:8])} (replaced or added): names the checker's own steps call through, "
            "outside its accounting")


def sealed_problem(name: str, path: str, source: str | None) -> Any:
    """The problem's module (the user's code, trusted like the reference), loaded here for its
    get_inputs, not importable by name from the solution's code, and sealed."""
    module = load_module(name, path, source)
    sys.modules.pop(name, None)
    guards.NameSeal.watch("problem", module)
    return module


def case_inputs(case: CandidateCase, req: CandidateRequest, problem: Any) -> list[Any] | str:
    """The trial's inputs, made here from the reference's recipe (or read from its file); the
    reason as text when what was made here is not what the reference made."""
    device = torch.device(req.device)
    dtype = DTYPES.get(req.precision or "")
    if case.inputs is None:
        return cast_inputs(load_tensors(Path(req.shared_dir) / f"inputs_{case.id}.pt"), device, dtype)
    values = make_inputs(problem, case.inputs, device, dtype)  # plain tensors, as a file's would be
    # A fresh seed from the checker's own generator: the trial's seed is not left for the forward to
    # read (torch.initial_seed() told perturbation trials, which reuse a plain trial's seed, apart).
    seed_everything(_rng.randrange(2**31 - 1))
    if fingerprint(values) != case.inputs.fingerprint:
        return ("the inputs made in the solution's process from the trial's seed differ from the reference's: the solution "
                "changed how torch draws them (its random generators, default dtype or device, or the problem's get_inputs)")
    return values
