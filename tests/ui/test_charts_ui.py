"""Charts (downsampling band, zoom re-fetch, axes, smoothing, log scale), the comparison page
and live updates of a running run."""

from __future__ import annotations

import json
import math
import time
import urllib.parse

import pytest
from playwright.sync_api import Page, expect

import cairn
from cairn.entities import Metric, Param
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


#: Where the first run's line is drawn across a chart's plot area, from 0 (left edge) to 1
#: (right edge): the mean x of the pixels in its color (#2f6fdf); null before it is drawn.
DRAWN_X = """(card) => {
  const canvas = card.querySelector('canvas');
  const over = card.querySelector('.u-over');
  if (!canvas || !over) return null;
  const box = canvas.getBoundingClientRect();
  const area = over.getBoundingClientRect();
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0, count = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const close = Math.abs(pixels[i] - 0x2f) + Math.abs(pixels[i + 1] - 0x6f)
      + Math.abs(pixels[i + 2] - 0xdf) < 60 && pixels[i + 3] > 200;
    if (close) { sum += (i / 4) % canvas.width; count += 1; }
  }
  if (!count) return null;
  const x = box.left + (sum / count) * (box.width / canvas.width);
  return (x - area.left) / area.width;
}"""


def drawn_x(page: Page, metric: str) -> float:
    chart = page.locator(f"[data-metric='{metric}']")
    expect(chart.locator("canvas")).to_have_count(1)
    page.wait_for_function(
        f"({DRAWN_X})(document.querySelector(\"[data-metric='{metric}']\")) !== null"
    )
    return float(chart.evaluate(DRAWN_X))


@pytest.mark.parametrize("x_axis", ["time", "step", "relative"])
def test_points_at_a_single_x_are_drawn_in_the_middle_of_the_chart(
    page: Page, seeded: Seeded, x_axis: str
) -> None:
    """A chart whose points all share one x (one timestamp, or one step) has an x range of no
    width; uPlot stretched wall time to 1,000 days after it, with the points on the left edge."""
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    exp = client.create_experiment(f"single-x-{x_axis}-{seeded.experiment_name}")
    run_id = client.create_run(exp, run_name="burst").info.run_id
    stamp = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("same_time", float(v), stamp, 7) for v in (1, 3, 2)]
        + [Metric("one_point", 5.0, stamp, 7)],
    )
    client.set_terminated(run_id)
    page.goto(f"/#/runs/{run_id}?tab=charts&x={x_axis}")
    for metric in ("same_time", "one_point"):
        assert 0.4 < drawn_x(page, metric) < 0.6, metric
    screenshot(page, f"charts-single-x-{x_axis}")


def test_a_log_scale_leaves_minor_ticks_unlabelled(page: Page, seeded: Seeded) -> None:
    """uPlot passes null for the log-scale ticks it leaves without a label; those were drawn
    as a dash. Every text drawn on the charts' canvases is recorded to check."""
    page.add_init_script(
        """(() => {
          window.__drawn = [];
          const fillText = CanvasRenderingContext2D.prototype.fillText;
          CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
            window.__drawn.push(String(text));
            return fillText.call(this, text, ...rest);
          };
        })()"""
    )
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    exp = client.create_experiment(f"log-scale-{seeded.experiment_name}")
    run_id = client.create_run(exp, run_name="decades").info.run_id
    stamp = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[Metric("span", 10.0**s, stamp, s) for s in range(-3, 4)])
    client.set_terminated(run_id)
    page.goto(f"/#/runs/{run_id}?tab=charts&log=1")
    expect(page.locator("[data-metric='span'] canvas")).to_have_count(1)
    page.wait_for_function("window.__drawn.includes('1000')")
    drawn = page.evaluate("window.__drawn")
    assert "\u2014" not in drawn, drawn
    screenshot(page, "charts-log")


def test_points_that_cannot_be_drawn_are_counted_on_the_chart(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.weird_id}?tab=charts")
    weird = page.locator("[data-metric='weird']")
    expect(weird.locator("canvas")).to_have_count(1)
    # 1, NaN, inf, 2, -inf, 3: three points are left out of the line.
    expect(weird.get_by_test_id("chart-note")).to_have_text("3 points not drawn (NaN or infinite)")
    screenshot(page, "charts-undrawn")
    # A chart with every point drawn says nothing.
    page.goto(f"/#/runs/{seeded.run_ids[0]}?tab=charts&cq=loss")
    expect(page.locator("[data-metric='loss'] canvas")).to_have_count(1)
    expect(page.locator("[data-metric='loss']").get_by_test_id("chart-note")).to_have_count(0)


def test_compare_plots_say_which_runs_are_left_off_an_axis(page: Page, seeded: Seeded) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    exp = client.create_experiment(f"nan-plot-{seeded.experiment_name}")
    ids = []
    for name, lr, loss in (("fine", "0.1", 0.5), ("diverged", "0.2", math.nan)):
        run_id = client.create_run(exp, run_name=name).info.run_id
        client.log_batch(run_id, metrics=[Metric("loss", loss, 0, 0)], params=[Param("lr", lr)])
        client.set_terminated(run_id)
        ids.append(run_id)
    page.goto(
        f"/#/compare?runs={','.join(ids)}&tab=plots&pc=params.lr,metrics.loss"
        "&sx=params.lr&sy=metrics.loss"
    )
    expect(page.get_by_test_id("parallel-coordinates").locator("polyline")).to_have_count(2)
    notes = page.get_by_test_id("plot-note")
    expect(notes).to_have_count(2)  # parallel coordinates and scatter plot
    for note in notes.all():
        expect(note).to_contain_text("diverged (loss = NaN)")
        expect(note).not_to_contain_text("fine")


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
