"""Fixtures of the web UI's browser tests.

A real ``cairn server`` subprocess over a fresh folder (started as the server tests start
theirs), seeded through HTTP with :mod:`tests.ui.seed`, and the system's Chromium driven by
Playwright (its own browser download is not used). Each test gets a fresh browser context; a
page error (an uncaught exception in the app) fails the test. Screenshots of the main pages
land in ``tests/ui/screenshots/`` for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests._stores import close_stores_opened_since
from tests.server.conftest import Server, running_server
from tests.ui.seed import Seeded, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
BUILD = Path(__file__).parents[2] / "src" / "cairn" / "server" / "webui" / "index.html"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ui: drives the web UI in a real browser (Chromium)")


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not BUILD.is_file():
        pytest.fail(f"The web UI is not built ({BUILD} is missing): run `make ui` first")
    workdir = tmp_path_factory.mktemp("cairn-ui")
    with running_server(workdir, str(workdir / "mlruns")) as server:
        yield server


@pytest.fixture(scope="session")
def seeded(ui_server: Server) -> Iterator[Seeded]:
    from cairn.store import registry

    before = set(registry._stores)
    yield seed(ui_server.url)
    close_stores_opened_since(before)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        # A failure, not a skip: the UI would otherwise go untested without anyone noticing.
        pytest.fail(f"The browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, seeded: Seeded) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, base_url=seeded.url, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page raised: {errors}"


def screenshot(page: Page, name: str) -> None:
    """Save what the page shows now as ``tests/ui/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
