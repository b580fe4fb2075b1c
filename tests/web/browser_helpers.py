"""What the browser tests share: Debian's Chromium, how it is started, where screenshots go."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Without Playwright (scripts/test installs it), every browser test module skips at once.
pytest.importorskip("playwright", reason="Playwright is not installed (scripts/test installs it)")

CHROMIUM = "/usr/bin/chromium"
# Screenshots for the README land in docs/screenshots/ when LOUPE_SCREENSHOTS=1 (so an
# ordinary test run leaves the tree clean); otherwise in a temp dir.
SHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
         if os.environ.get("LOUPE_SCREENSHOTS") else Path(tempfile.gettempdir()) / "loupe-shots")

needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason="Debian's chromium is not installed"
                                           " (.ci/run installs it)")


def chromium_args() -> list[str]:
    # No background networking: this machine's closed network refuses it, loudly.
    return ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
