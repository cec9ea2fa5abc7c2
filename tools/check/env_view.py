"""What the candidate's code sees of the environment: an allow-list of names.

The sandbox already passes only an allow-list of variables to the child, but some of them are the
checker's (`TRITON_INTERPRET` on the CPU, cache folders) and a candidate that recognises the
checker by them could behave honestly only then. Torch and Triton still read every variable
(they are configured through them); a read the candidate asks for, directly or through the
standard library (`os.getenv`, `os.environ[...]`, iteration), sees only `VISIBLE` names.
"""

from __future__ import annotations

import os
import sys

from kernelwright.tools.check.code_origin import CodeOrigins, Origin

# Names an honest kernel might read; none of them tells a check from a user's run.
VISIBLE = frozenset({"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS"})
# Names every user's session has: their absence would tell a check from a run (a red-team candidate
# was honest only while HOME was unset), their real values (the sandbox's folders) too, so the
# candidate sees ordinary ones.
PLACEHOLDERS = {"HOME": "/home/user", "USER": "user", "LOGNAME": "user", "SHELL": "/bin/bash", "TERM": "xterm-256color"}


def restrict_environment(origins: CodeOrigins) -> None:
    """Give `os.environ` a view that hides all but `VISIBLE` from the candidate's own reads."""
    environ = os.environ
    base = type(environ)
    getframe = sys._getframe

    def candidate_asks() -> bool:
        return origins.requester(getframe(2))[0] is Origin.CANDIDATE

    def seen() -> dict[str, str]:
        """The environment as the candidate sees it."""
        real = {k: base.__getitem__(environ, k) for k in base.__iter__(environ) if k in VISIBLE}
        return {**real, **PLACEHOLDERS}

    class CandidateEnvironView(base):  # type: ignore[misc, valid-type]
        def __getitem__(self, key):
            if candidate_asks():
                return seen()[key]
            return base.__getitem__(self, key)

        def __contains__(self, key):
            if candidate_asks():
                return key in seen()
            return base.__contains__(self, key)

        def __iter__(self):
            if candidate_asks():
                return iter(list(seen()))
            return iter(list(base.__iter__(self)))

        def __len__(self):
            if candidate_asks():
                return len(seen())
            return base.__len__(self)

        def copy(self):
            if candidate_asks():
                return seen()
            return {k: base.__getitem__(self, k) for k in base.__iter__(self)}

    # Looks like os._Environ to a candidate that inspects it.
    CandidateEnvironView.__name__ = CandidateEnvironView.__qualname__ = base.__name__
    CandidateEnvironView.__module__ = base.__module__
    environ.__class__ = CandidateEnvironView
    _hide_interpreter_knob(origins)


def _hide_interpreter_knob(origins: CodeOrigins) -> None:
    """`triton.knobs.runtime.interpret` is Triton's own reading of TRITON_INTERPRET (Triton's frame
    reads the variable, so the view above lets it through): the candidate's reads of the knob get
    False, as in a GPU process; Triton's own reads (which pick the interpreter) see the truth."""
    try:
        import triton.knobs as knobs
    except ImportError:  # pragma: no cover - Triton before its knobs module
        return
    runtime_class = type(knobs.runtime)
    original = runtime_class.__dict__.get("interpret")
    if original is None:  # pragma: no cover
        return
    getframe = sys._getframe

    class HiddenKnob(type(original)):  # type: ignore[misc]
        def __get__(self, obj, objclass=None):
            if obj is not None and origins.requester(getframe(1))[0] is Origin.CANDIDATE:
                return False
            return original.__get__(obj, objclass)

    hidden = HiddenKnob(original.key, getattr(original, "default", False))
    hidden.name = getattr(original, "name", "interpret")
    HiddenKnob.__name__ = HiddenKnob.__qualname__ = type(original).__name__
    HiddenKnob.__module__ = type(original).__module__
    runtime_class.interpret = hidden
