"""`python -m kernelwright` in the repository root imports the source folder `kernelwright/`,
not an installed copy (the GPU machine installs a wheel): it must still find its subpackages,
which live in sibling folders. `-S` leaves out the site initialisation and with it the editable
install's path hook (a .pth file); site-packages is then put back on PYTHONPATH, where .pth files
are not run, so the dependencies (pydantic, ...) import but no installed kernelwright does."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig

from paths import ROOT


def test_the_cli_runs_from_a_source_checkout_without_an_installed_copy():
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    proc = subprocess.run([sys.executable, "-S", "-m", "kernelwright", "bench", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "--resume" in proc.stdout
