"""Playwright on Debian's Chromium, and the dashboard's page helpers, shared by the browser tests
on local servers (tests/browser) and on the chart's dashboard in the node (tests/node).

Chromium is ``/usr/bin/chromium`` through ``executable_path``, headless; ``playwright install``
is never run. A test that fails leaves a full-page screenshot in its tmp dir (the path is
printed); with TIER0_DASHBOARD_SCREENSHOTS naming a directory, ``keep_screenshot`` also saves
the pages the docs show.

Also a pytest plugin (``pytest_plugins`` in tests/conftest.py): the ``browser`` and ``page``
fixtures; a module whose server is slower overrides ``page_timeout_ms``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium. Hold it for a module at most: while Playwright's sync API is alive it
    marks an event loop as running in the main thread, and ``asyncio.run()`` refuses to start."""
    assert CHROMIUM.exists(), "Debian's chromium is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """``chromium()`` for one module (not the session: see there)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page_timeout_ms() -> int:
    """The default timeout of ``page``'s actions and assertions, in milliseconds."""
    return 20_000


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, tmp_path: Path, page_timeout_ms: int
) -> Iterator[Page]:
    """``open_page`` for one test."""
    with open_page(browser, request, tmp_path, timeout_ms=page_timeout_ms) as opened:
        yield opened


@contextmanager
def open_page(
    browser: Browser, request: pytest.FixtureRequest, tmp_path: Path, *, timeout_ms: int = 20_000
) -> Iterator[Page]:
    """A page in a fresh browser context; screenshotted into ``tmp_path`` if the test failed."""
    # The session counts a failed call phase before the test's fixtures are torn down.
    failed_before = request.session.testsfailed
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(timeout_ms)
    try:
        yield opened
    finally:
        if request.session.testsfailed > failed_before:
            shot = tmp_path / "failure.png"
            opened.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failed page: {shot}")
        context.close()


def keep_screenshot(page: Page, name: str) -> None:
    """Save the page for the docs when TIER0_DASHBOARD_SCREENSHOTS names a directory."""
    directory = os.environ.get("TIER0_DASHBOARD_SCREENSHOTS")
    if directory:
        page.screenshot(path=str(Path(directory) / f"dashboard-{name}.png"), full_page=True)


def open_tab(page: Page, url: str, tab: str) -> None:
    """Open ``tab`` and wait for its first refresh."""
    page.goto(f"{url}/#{tab}")
    expect(page.locator("#refreshed")).to_contain_text("updated")


def card(page: Page, label: str) -> str:
    """The value of the card whose label starts with ``label``."""
    return page.locator(f"[data-card^='{label}'] .value").first.inner_text()


def card_number(page: Page, label: str) -> float:
    """A card's value as a number (the page writes thousands with commas)."""
    return float(card(page, label).replace(",", ""))


def pager(first: int, last: int, total: int) -> str:
    return f"{first}\u2013{last} of {total}"  # an en dash, as the page writes it
