"""Shared fixtures of the end-to-end tests (``make e2e``): a real Chromium, driven by Playwright.

The browser is Debian's ``chromium`` (``.ci/run`` installs it with ``apt-get``); Playwright's
own browser download is never used. ``PHYSML_CHROMIUM`` names another executable. A missing
browser is an error, not a skip: these tests must run wherever ``make e2e`` runs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def chromium_executable() -> str:
    """Path of the Chromium to drive: ``$PHYSML_CHROMIUM``, else ``chromium`` on the PATH."""
    path = os.environ.get("PHYSML_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError(
            "no Chromium found: install Debian's package (`apt-get install chromium`) "
            "or set PHYSML_CHROMIUM to a Chromium executable"
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), args=["--no-sandbox"])
        yield browser
        browser.close()
