"""kernelwright: PyTorch reference in, verified fast GPU kernel out."""

import os as _os

__version__ = "0.1.0"

# In a source checkout the subpackages are sibling folders (pyproject's package-dir maps
# kernelwright.tools to tools/, ...). `python -m kernelwright` run in the repository root imports
# this folder rather than an installed copy; let it find them there too instead of failing with
# "No module named 'kernelwright.bench'" (seen on the GPU machine, which installs a wheel).
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_root, "pyproject.toml")) and _os.path.isdir(_os.path.join(_root, "bench")):
    __path__.append(_root)  # noqa: F821 - the package's own search path
