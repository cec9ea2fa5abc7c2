"""The candidate worker's steps before the candidate's code loads that hold no state of their own:
warming up Triton and the device while the reference works, and taking the checker's modules out
of `sys.modules` (`candidate.main` calls both)."""

from __future__ import annotations

import sys

import torch

from kernelwright.tools.check import process_hooks


def prewarm(device: str) -> None:
    """What every check pays before the candidate's code can run, done while the reference works:
    Triton's import and, on a GPU, the CUDA context and Triton's driver module (built with the C
    compiler into this check's cache). Nothing here involves the candidate; a failure here
    surfaces again, and is reported, when the candidate's kernels need the same thing."""
    import triton  # noqa: F401

    if device.startswith("cuda"):
        try:
            torch.cuda.set_device(torch.device(device))
            torch.empty(1, device=device)
            from triton.runtime import driver

            driver.active.get_current_target()
        except Exception:  # noqa: BLE001 - see the docstring
            pass


def hide_checker_modules() -> None:
    """Take the checker's modules out of `sys.modules` before the candidate's code runs: the
    code already loaded keeps working (functions hold their own globals), while an `import` of
    the checker by any route is a fresh load, which the audit refuses, instead of a handle on
    the live guards."""
    for name in [n for n in sys.modules if n == "kernelwright" or n.startswith("kernelwright.")]:
        del sys.modules[name]
    process_hooks.checker_modules_hidden()  # from here, one of them back in sys.modules is global state
