"""What the browser tests share: Debian's Chromium, how it is started, where screenshots go."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from web_helpers import PINS

from hub.web.app import create_app

# Without Playwright (scripts/test installs it), every browser test module skips at once.
pytest.importorskip("playwright", reason="Playwright is not installed (scripts/test installs it)")

from playwright.async_api import async_playwright  # noqa: E402 - after the skip above

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


@contextlib.asynccontextmanager
async def signed_in(runtime, size, staff_id="mona", *, downloads=False):
    """A real Chromium at `size`, signed in as `staff_id` on the hub's app: yields (page, base).
    The app's TestServer and the browser are started here and closed on the way out."""
    server = TestServer(create_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
            try:
                context = await browser.new_context(
                    viewport={"width": size[0], "height": size[1]}, has_touch=True,
                    accept_downloads=downloads)
                page = await context.new_page()
                page.set_default_timeout(10_000)
                base = str(server.make_url("")).rstrip("/")
                await page.goto(base + "/signin")
                await page.fill("#staff_id", staff_id)
                await page.fill("#pin", PINS[staff_id])
                await page.click("button[type=submit]")
                await page.wait_for_url(base + "/today")
                yield page, base
            finally:
                await browser.close()
    finally:
        await server.close()
