import os

import pytest


def has_cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return False


def pytest_collection_modifyitems(config, items):
    if has_cuda():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (run on the device machine: pytest -m gpu)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    # No test writes into the user's ~/.kernelwright.
    monkeypatch.setenv("KERNELWRIGHT_HOME", str(tmp_path / "kw-home"))
    os.environ.pop("KERNELWRIGHT_MODEL", None)
