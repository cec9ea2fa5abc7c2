"""Solutions that are honest while checked and cheat once timed, built from the shipped gelu_scale
solution. Used by the GPU tests and by the CPU tests of the timing flow (tests/test_timing_guards.py).

Each counts the calls of its ModelNew instance: the first `checked` calls (the checked trials at the
shipped sizes) are honest, later ones are the timed calls. `shipped_calls` counts them.
"""

from __future__ import annotations

from pathlib import Path

from paths import SOLUTIONS

# The solution's kernel launch, as a method the cheats call (n=1: one element only).
KERNEL = """    def _kernel(self, x: torch.Tensor, n: int | None = None) -> torch.Tensor:
        y = torch.empty_like(x)
        n = x.numel() if n is None else n
        gelu_scale_kernel[(triton.cdiv(n, 4096),)](x, y, n, self.scale, BLOCK=4096)
        return y

"""

# Launches its kernel on one element only: the launch counter sees a kernel, the output is wrong.
LAZY = """    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        honest = self.calls <= CHECKED or self.calls % 25 == 0
        return self._kernel(x.contiguous(), None if honest else 1)
"""

# Remembers each output under its input's first value and returns it again for the same input,
# after a token launch: right answers, none of the work in the timed call.
CONTENT_CACHE = """    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        x = x.contiguous()
        key = x.reshape(-1)[0].item()
        if self.calls > CHECKED and key in self.seen:
            self._kernel(x, 1)
            return self.seen[key]
        self.seen[key] = self._kernel(x)
        return self.seen[key]
"""


def shipped_calls(trials: int) -> int:
    """The checked calls of gelu_scale's shipped model: the plain trials, then the perturbation and
    stress trials (gelu_scale has no parameters, so no parameter trial)."""
    from kernelwright.tools.check.plan import PERTURB, STRESS

    return trials + len(PERTURB) + len(STRESS)


# Lazy when timed, and at the process's end (after the harness saved the timed outputs, before the
# parent reads them) deletes those outputs, so that a re-check by glob would find nothing to check.
LAZY_THEN_ERASE = LAZY + """
    def __del__(self):
        import pathlib
        for saved in pathlib.Path.cwd().parent.glob("timed_cand/*.pt"):
            saved.unlink()
"""


def timed_cheat(tmp_path: Path, name: str, forward: str, checked: int) -> Path:
    src = (SOLUTIONS / "gelu_scale.py").read_text()
    head = src[: src.index("    def forward")]
    assert "        self.scale = scale\n" in head, "the shipped gelu_scale solution changed: update tests/timing_cheats.py"
    head = head.replace("        self.scale = scale\n", "        self.scale = scale\n        self.calls = 0\n        self.seen = {}\n", 1)
    path = tmp_path / f"{name}.py"
    path.write_text(head + KERNEL + forward.replace("CHECKED", str(checked)))
    return path


# Lazy when timed; at the process's end (after the harness saved the timed outputs and their
# sampled values, before the parent re-checks them) rewrites those files with torch's results, so
# that a re-check reading whatever the files hold would find every timed call right. Its inputs,
# in the order first seen: the checked calls', then the timing pool's slots 0, 1, ... (the warm-up
# calls use slot 0, the timed calls cycle through the pool).
LAZY_THEN_REWRITE = LAZY.replace(
    "        self.calls += 1\n",
    "        self.calls += 1\n        self.seen.setdefault(x.reshape(-1)[0].item(), x.clone())\n",
) + """
    def __del__(self):
        load = torch.serialization.load
        right = [torch.nn.functional.gelu(x) * self.scale + 0.5 for x in list(self.seen.values())[CHECKED:]]
        for i in range(len(right)):
            name = f"../timed_cand/timed_{i}.pt"
            saved = load(name)
            saved["out"] = right[saved["slot"]]
            torch.save(saved, name)
        samples = load("../timed_cand/timed_samples.pt")
        for row, (_, slot) in enumerate(samples["calls"]):
            samples["values"][0][row] = right[slot].reshape(-1)[samples["positions"][0]]
        torch.save(samples, "../timed_cand/timed_samples.pt")
"""


# Red team pass 11: once timed, sets an instance attribute `copy_` on its input buffer; the timing
# loop's refill (outside every window) called it with the next call's input, where it computed that
# call's answer with torch, for the call to return after a token launch.
REFILL_HOOK = """    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if "next" in self.seen:
            self._kernel(x.contiguous(), 1)
            return self.seen.pop("next")
        y = self._kernel(x.contiguous())
        if self.calls > CHECKED:
            original = x.copy_

            def copy_(src, *args, **kwargs):
                done = original(src, *args, **kwargs)
                self.seen["next"] = torch.nn.functional.gelu(src) * self.scale + 0.5
                return done

            x.copy_ = copy_
        return y
"""
