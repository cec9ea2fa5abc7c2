"""`python -m kernelwright` in the repository root imports the source folder `kernelwright/`,
not an installed copy (the GPU machine installs a wheel): it must still find its subpackages,
which live in sibling folders. `-S` leaves out site-packages and with it any installed copy."""

from __future__ import annotations

import subprocess
import sys

from paths import ROOT


def test_the_cli_runs_from_a_source_checkout_without_an_installed_copy():
    proc = subprocess.run([sys.executable, "-S", "-m", "kernelwright", "bench", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "--resume" in proc.stdout
