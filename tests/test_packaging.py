"""The wheel ships every source folder. pyproject.toml lists the packages one by one (the
top-level folders become subpackages of `kernelwright`), so a new subfolder that is not listed is
importable here (the editable install and a source checkout find it by path) but missing from the
wheel the GPU machine installs: `kernelwright.agents.records` was, and every command failed there
with ModuleNotFoundError."""

from __future__ import annotations

import tomllib

from paths import ROOT

SHIPPED_SUFFIXES = {".py", ".yaml", ".md", ".j2", ".html", ".css", ".js"}


def _listed() -> tuple[set[str], dict[str, str]]:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(setuptools["packages"]), setuptools["package-dir"]


def test_every_folder_with_source_or_data_is_a_listed_package():
    packages, roots = _listed()
    missing = []
    for package, folder in roots.items():
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in SHIPPED_SUFFIXES or "__pycache__" in path.parts:
                continue
            sub = path.parent.relative_to(ROOT / folder).parts
            name = ".".join([package, *sub])
            if name not in packages:
                missing.append(f"{name} ({path.relative_to(ROOT)})")
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(set(m.split()[0] for m in missing))}"


def test_every_listed_package_exists():
    packages, roots = _listed()
    for name in packages:
        top = max((p for p in roots if name == p or name.startswith(p + ".")), key=len)
        folder = ROOT / roots[top] / name[len(top):].lstrip(".").replace(".", "/")
        assert folder.is_dir(), f"{name}: no folder {folder.relative_to(ROOT)}"
