"""Names made of HTML, a server that stops answering, themes and time zones."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui


def test_names_made_of_html_are_shown_as_text(page: Page, seeded: Seeded) -> None:
    page.goto("/")
    evil = page.get_by_role("link", name="<script>", exact=False)
    expect(evil).to_contain_text("<img src=x")
    evil.click()
    expect(page.locator("h1")).to_contain_text("<script>window.__xss=1</script>")
    page.goto(f"/#/experiments/{seeded.experiment_id}?filter=attributes.run_name LIKE 'weird%'")
    expect(page.get_by_test_id("runs-grid")).to_contain_text("weird <img")
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0


def test_a_server_that_stops_answering_is_reported_in_the_page(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/experiments/{seeded.experiment_id}")
    expect(page.get_by_test_id("run-total")).to_have_text("35 top-level runs")

    def refuse(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/ajax-api/**", refuse)
    page.route("**/health", refuse)
    page.get_by_label("Filter runs").fill("params.lr = '0.1'")
    page.get_by_label("Filter runs").press("Enter")
    expect(page.get_by_text("Cannot reach the cairn server").first).to_be_visible()
    # The banner names both commands that serve the UI, as the error card does.
    banner = page.get_by_role("alert").filter(has_text="reconnects on its own")
    expect(banner).to_contain_text("Is cairn ui (or cairn server) still running?")
    # Once the few retries are spent, the table says what happened and offers to try again.
    expect(page.get_by_role("button", name="Try again")).to_be_visible(timeout=20_000)
    screenshot(page, "server-down")
    # When the server is back, the page notices by itself and loads what it shows.
    page.unroute("**/ajax-api/**")
    page.unroute("**/health")
    expect(page.get_by_test_id("run-total")).to_have_text("10 top-level runs", timeout=20_000)
    expect(page.get_by_text("Cannot reach the cairn server")).to_have_count(0)


def test_the_dark_theme_is_chosen_and_remembered(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/experiments/{seeded.experiment_id}")
    page.get_by_role("button", name="Switch to dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 24, 31)"
    screenshot(page, "runs-dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.goto(f"/#/runs/{seeded.long_id}?tab=charts&cq=signal")
    expect(page.locator("[data-metric='signal'] canvas")).to_have_count(1)
    screenshot(page, "charts-dark")


def test_dates_are_shown_in_the_viewers_time_zone(browser: Browser, seeded: Seeded) -> None:
    shown = {}
    for zone in ("UTC", "Asia/Tokyo"):
        context = browser.new_context(timezone_id=zone, locale="en-US", base_url=seeded.url)
        tab = context.new_page()
        tab.goto(f"/#/runs/{seeded.artifacts_id}")
        started = tab.locator("dt", has_text="Started").locator("xpath=following-sibling::dd[1]")
        expect(started).not_to_have_text("—")
        shown[zone] = started.inner_text()
        assert zone in (started.get_attribute("title") or "")
        context.close()
    assert shown["UTC"] != shown["Asia/Tokyo"]
