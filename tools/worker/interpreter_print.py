"""`tl.device_print` under Triton's interpreter, out of the host code's reach.

The stock interpreter prints a kernel's values through Python's `print`, so code that swapped
`sys.stdout` (a red-team solution with `contextlib.redirect_stdout`) read them back on the host and
computed the answer there; on a GPU they go to the device's printf buffer. Here they go straight to
file descriptor 2 (the worker's stderr log), whatever `sys.stdout` is.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable

_write = os.write  # captured before any solution code runs


def device_print(original: Callable) -> Callable:
    """The builder's `create_print`, its text sent to file descriptor 2."""

    def create_print(self, prefix, hex, values, isSigned):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            original(self, prefix, hex, values, isSigned)
        _write(2, buffer.getvalue().encode())

    return create_print
