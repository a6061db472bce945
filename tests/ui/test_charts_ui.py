"""Charts (downsampling band, zoom re-fetch, axes, smoothing, log scale), the comparison page
and live updates of a running run."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from playwright.sync_api import Page, expect

import cairn
from cairn.entities import Metric
from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui

#: The label of a downsampled chart (with an en dash).
BAND = "min\u2013max band"


def test_a_long_series_is_downsampled_with_a_band_and_zoom_fetches_full_resolution(
    page: Page, seeded: Seeded
) -> None:
    page.goto(f"/#/runs/{seeded.long_id}?tab=charts&cq=signal")
    chart = page.locator("[data-metric='signal']")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart.get_by_text(BAND)).to_be_visible()
    screenshot(page, "charts")
    over = chart.locator(".u-over")
    box = over.bounding_box()
    assert box is not None
    with page.expect_request(lambda r: r.url.endswith("/metrics/series")) as zoomed:
        page.mouse.move(box["x"] + box["width"] * 0.60, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
    body = json.loads(zoomed.value.post_data or "{}")
    assert 2500 < body["x_min"] < body["x_max"] < 4000
    expect(chart.get_by_role("button", name="Reset zoom")).to_be_visible()
    # Under 1,000 points in range: the raw points come back, no band needed.
    expect(chart.get_by_text(BAND)).to_have_count(0)
    chart.get_by_role("button", name="Reset zoom").click()
    expect(chart.get_by_text(BAND)).to_be_visible()


def test_chart_settings_are_kept_in_the_url(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.long_id}?tab=charts&cq=signal")
    chart = page.locator("[data-metric='signal']")
    expect(chart.locator("canvas")).to_have_count(1)
    with page.expect_request(lambda r: r.url.endswith("/metrics/series")) as changed:
        page.get_by_label("X axis").select_option("relative")
    assert json.loads(changed.value.post_data or "{}")["x_axis"] == "relative"
    page.get_by_label("Log scale").check()
    page.get_by_label("Smoothing").fill("0.6")
    query = urllib.parse.parse_qs(page.url.split("?", 1)[1])
    assert query["x"] == ["relative"]
    assert query["log"] == ["1"]
    assert query["smooth"] == ["0.6"]
    page.reload()
    expect(page.get_by_label("Log scale")).to_be_checked()
    expect(page.get_by_label("X axis")).to_have_value("relative")
    expect(chart.locator("canvas")).to_have_count(1)


def test_charts_of_many_metrics_are_filtered_by_name(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.long_id}?tab=charts")
    expect(page.get_by_text("251 charts")).to_be_visible()
    # Only a screenful is mounted; the rest wait behind "Show more".
    expect(page.get_by_role("button", name="Show 24 more charts")).to_be_visible()
    page.get_by_label("Filter charts by metric name").fill("layer_07")
    expect(page.get_by_text("10 charts")).to_be_visible()
    expect(page.locator("[data-metric='layer_071/grad_norm'] canvas")).to_have_count(1)


def test_nan_and_infinite_points_do_not_break_a_chart(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.weird_id}?tab=charts")
    expect(page.locator("[data-metric='weird'] canvas")).to_have_count(1)
    expect(page.locator("[data-metric='nan_only']")).to_contain_text("No values")


def test_compare_shows_the_latest_min_or_max_of_each_metric(page: Page, seeded: Seeded) -> None:
    runs = ",".join(seeded.run_ids[:2])
    page.goto(f"/#/compare?runs={runs}")
    loss = page.get_by_role("table", name="Metrics").get_by_role("row").filter(has_text="loss")
    first_run = loss.locator("td").nth(1)
    expect(first_run).to_have_text("0.02")  # run-00's last loss: 1 / (1 + 49 x 0.1 x 10)
    page.get_by_label("Metric value").select_option("max")
    expect(first_run).to_have_text("1")  # its first step
    assert "agg=max" in page.url
    page.get_by_label("Metric value").select_option("min")
    expect(first_run).to_have_text("0.02")
    page.reload()
    expect(page.get_by_label("Metric value")).to_have_value("min")


def test_compare_highlights_differences_and_plots_the_runs(page: Page, seeded: Seeded) -> None:
    runs = ",".join(seeded.run_ids[:3])
    page.goto(f"/#/compare?runs={runs}")
    params = page.get_by_role("table", name="Parameters")
    lr = params.get_by_role("row").filter(has_text="lr")
    expect(lr).to_have_attribute("data-differs", "true")
    expect(lr.locator("td.diff")).to_have_count(3)
    page.get_by_label("Only differences").first.check()
    expect(params.get_by_role("row")).to_have_count(4)  # header + lr, optimizer, seed
    screenshot(page, "compare")

    page.get_by_role("tab", name="Charts").click()
    loss = page.locator("[data-metric='loss']")
    expect(loss.locator("canvas")).to_have_count(1)
    for name in ("run-00", "run-01", "run-02"):
        expect(loss.locator(".chart-legend")).to_contain_text(name)
    box = loss.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(loss.locator(".chart-legend")).to_contain_text("run-00: ")  # hover values
    screenshot(page, "compare-charts")

    page.get_by_role("tab", name="Plots").click()
    expect(page.get_by_test_id("parallel-coordinates").locator("polyline")).to_have_count(3)
    page.get_by_label("Scatter X").select_option("params.lr")
    page.get_by_label("Scatter Y").select_option("metrics.accuracy")
    expect(page.get_by_test_id("scatter").locator("circle")).to_have_count(3)
    screenshot(page, "compare-plots")


def test_a_running_run_updates_in_place(page: Page, seeded: Seeded) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    exp = client.create_experiment(f"live-{seeded.experiment_name}")
    run_id = client.create_run(exp, run_name="training").info.run_id
    start = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("live", float(s), start, s) for s in range(5)])
    page.goto(f"/#/runs/{run_id}?tab=metrics")
    live = page.locator("[data-metric='live']")
    expect(live).to_contain_text("4")  # latest step
    loaded = page.evaluate("location.href")
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("live", 99.5, now, 5 + s) for s in range(3)])
    expect(live).to_contain_text("99.5", timeout=15_000)
    expect(live).to_contain_text("8")
    client.set_terminated(run_id, "FINISHED")
    expect(page.locator(".status").first).to_have_text("Finished", timeout=15_000)
    assert page.evaluate("location.href") == loaded  # no navigation, no reload
