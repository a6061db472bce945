"""The run page: overview, params, tags (editable), description (Markdown, sanitized),
datasets, metrics with NaN and infinities, sparklines, and an unknown run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import cairn
from cairn.entities import Param
from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui


def test_the_overview_shows_times_source_commit_params_and_datasets(
    page: Page, seeded: Seeded
) -> None:
    page.goto(f"/#/runs/{seeded.artifacts_id}")
    expect(page.get_by_test_id("run-title")).to_have_text("with-artifacts")
    expect(page.get_by_text("0123456789ab", exact=True)).to_be_visible()  # the git commit
    expect(page.get_by_text("10.0s")).to_be_visible()  # duration
    params = page.get_by_role("table", name="Parameters")
    expect(params.get_by_role("row").filter(has_text="optimizer")).to_contain_text("adam")
    datasets = page.get_by_test_id("datasets")
    expect(datasets).to_contain_text("iris")
    expect(datasets).to_contain_text("training")
    expect(page.get_by_test_id("description-html").locator("strong")).to_have_text("iris")
    screenshot(page, "run")


def test_parent_and_child_runs_link_to_each_other(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.parent_id}")
    child = page.get_by_role("link", name="sweep-child-1")
    expect(child).to_be_visible()
    child.click()
    expect(page.get_by_test_id("run-title")).to_have_text("sweep-child-1")
    page.get_by_role("link", name=seeded.parent_id).click()
    expect(page.get_by_test_id("run-title")).to_have_text("sweep-parent")


def test_tags_are_added_edited_and_deleted(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.run_ids[7]}")
    tags = page.get_by_test_id("tags")
    tags.get_by_label("New tag key").fill("stage")
    tags.get_by_label("New tag value").fill("candidate")
    tags.get_by_role("button", name="Add tag").click()
    row = tags.get_by_role("row").filter(has_text="stage")
    expect(row).to_contain_text("candidate")
    row.get_by_role("button", name="Edit tag stage").click()
    tags.get_by_label("Value of stage").fill("production")
    tags.get_by_label("Value of stage").press("Enter")
    expect(row).to_contain_text("production")
    page.reload()
    expect(tags.get_by_role("row").filter(has_text="stage")).to_contain_text("production")
    tags.get_by_role("button", name="Delete tag stage").click()
    expect(tags.get_by_role("row").filter(has_text="stage")).to_have_count(0)


def test_the_description_is_edited_as_markdown_and_rendered_sanitized(
    page: Page, seeded: Seeded
) -> None:
    page.goto(f"/#/runs/{seeded.run_ids[8]}")
    card = page.get_by_test_id("description")
    card.get_by_role("button", name="Edit").click()
    card.get_by_label("Description (Markdown)").fill(
        '## Result\n\n*best* so far <img src=x onerror="window.__xss=1">'
        "<script>window.__xss=1</script> [docs](javascript:window.__xss=1)"
    )
    card.get_by_role("button", name="Preview").click()
    expect(card.locator("h2", has_text="Result")).to_be_visible()
    card.get_by_role("button", name="Save").click()
    html = page.get_by_test_id("description-html")
    expect(html.locator("em")).to_have_text("best")
    expect(html.locator("script")).to_have_count(0)
    expect(html.locator("[onerror]")).to_have_count(0)
    assert "javascript:" not in (html.inner_html())
    page.reload()
    expect(page.get_by_test_id("description-html").locator("h2")).to_have_text("Result")
    assert page.evaluate("window.__xss") is None


def test_metrics_show_latest_min_max_with_nan_and_infinities(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.weird_id}?tab=metrics")
    weird = page.locator("[data-metric='weird']")
    expect(weird).to_contain_text("3")
    expect(weird).to_contain_text("\u2212\u221e")  # minus infinity
    expect(weird).to_contain_text("∞")
    expect(page.locator("[data-metric='nan_only']")).to_contain_text("NaN")
    # The run's name is HTML: shown as text, never run.
    expect(page.get_by_test_id("run-title")).to_contain_text("<script>")
    assert page.evaluate("window.__xss") is None


def test_many_metrics_are_paged_filtered_and_sparklined(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.long_id}?tab=metrics")
    expect(page.get_by_test_id("metric-total")).to_have_text("251 metrics")
    page.get_by_label("Filter metrics by name").fill("signal")
    expect(page.get_by_test_id("metric-total")).to_have_text("1 metric match")
    signal = page.locator("[data-metric='signal']")
    expect(signal).to_contain_text("5,000")
    expect(signal.locator("svg.sparkline polyline")).to_have_count(1)
    expect(signal).to_contain_text("50")  # the spike is the max
    page.get_by_label("Filter metrics by name").fill("grad_norm")
    expect(page.get_by_test_id("metric-total")).to_have_text("250 metrics match")
    # Scrolling far down loads the later pages.
    page.get_by_role("grid", name="Metrics").evaluate("el => el.scrollTop = el.scrollHeight")
    expect(page.locator("[data-metric='layer_249/grad_norm']")).to_be_visible()


def test_an_unknown_run_id_says_it_was_not_found(page: Page) -> None:
    page.goto("/#/runs/0123456789abcdef0123456789abcdef")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile("not found", re.I))
    expect(alert).to_contain_text("0123456789abcdef0123456789abcdef")
    screenshot(page, "run-not-found")


def test_an_unknown_tab_in_the_url_shows_the_overview(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.artifacts_id}?tab=zzz")
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    params = page.get_by_role("table", name="Parameters")
    expect(params.get_by_role("row").filter(has_text="optimizer")).to_contain_text("adam")


def test_long_names_and_keys_wrap_inside_the_page(page: Page, seeded: Seeded) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    name = "L" * 230 + " end"
    exp = client.create_experiment(f"long-names-{seeded.experiment_name}")
    run_id = client.create_run(exp, run_name=name).info.run_id
    key = "p" * 240
    client.log_batch(run_id, params=[Param(key, "the-value"), Param("lr", "0.1")])
    client.set_terminated(run_id)
    page.goto(f"/#/runs/{run_id}")
    expect(page.get_by_test_id("run-title")).to_have_text(name)
    width = page.viewport_size["width"] if page.viewport_size else 1400
    title = page.get_by_test_id("run-title").bounding_box()
    assert title is not None and title["x"] + title["width"] <= width
    assert page.locator("main").evaluate("el => el.scrollWidth <= el.clientWidth"), "overflows"
    # The long key wraps: its value stays in sight, inside the card.
    card = page.locator(".card").filter(has=page.get_by_role("table", name="Parameters"))
    value = card.get_by_role("row").filter(has_text="the-value").locator("td").nth(1)
    frame, box = card.bounding_box(), value.bounding_box()
    assert frame is not None and box is not None
    assert frame["x"] < box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
    screenshot(page, "run-long-names")
