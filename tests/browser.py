"""Headless Chromium (Debian's `chromium`) for the page tests: a screenshot, kept under
tests/artifacts/ (or $KW_TEST_ARTIFACTS) for people to look at, the DOM after scripts ran, and
the console: any message the page logs, CSP violations included, is returned to be asserted on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(os.environ.get("KW_TEST_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
# Chromium's own start-up noise in a container (no D-Bus, no GPU process): not the page's.
_NOISE = re.compile(r"dbus|bus\.cc|object_proxy|gpu_init|viz_main|sandbox|crashpad|Fontconfig|gl_surface|egl|angle", re.I)


def page_errors(stderr: str) -> list[str]:
    """The page's console messages and script/CSP errors in Chromium's log."""
    lines = [line for line in stderr.splitlines() if ("CONSOLE" in line or "Uncaught" in line or "Content Security Policy" in line)]
    return [line for line in lines if not _NOISE.search(line)]


def screenshot(url: str, name: str, workdir: Path, width: int = 1280, height: int = 2400) -> tuple[Path, list[str]]:
    """A PNG of the page (kept as a test artefact) and the page's console errors."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={workdir / ('profile-' + name)}", f"--screenshot={shot}",
                        f"--window-size={width},{height}", url], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.exists(), r.stderr[-2000:]
    return shot, page_errors(r.stderr)


def dom(url: str, workdir: Path) -> tuple[str, list[str]]:
    r = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={workdir / 'profile-dom'}", "--dump-dom", url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout, page_errors(r.stderr)


def pixels_near(shot: Path, color: str, tolerance: int = 12) -> int:
    """How many pixels of the screenshot are within `tolerance` (per channel) of `color` (#rrggbb)."""
    import matplotlib.image

    image = (matplotlib.image.imread(shot)[..., :3] * 255).astype(int)
    target = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image - target).max(axis=-1) <= tolerance).sum())
