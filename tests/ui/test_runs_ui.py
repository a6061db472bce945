"""The runs table: sorting, the filter (suggestions, errors), columns and aggregates, the
nested-run tree, group-by, selection, delete/restore, keyboard, and links that reproduce it."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse

import pytest
from playwright.sync_api import Page, Request, expect

import cairn
from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui


def runs_url(seeded: Seeded, **params: str) -> str:
    query = urllib.parse.urlencode(params)
    return f"/#/experiments/{seeded.experiment_id}" + (f"?{query}" if query else "")


def rows(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("runs-grid").locator("[role=row][data-run-id]")


def test_the_table_shows_runs_with_status_times_user_and_source(page: Page, seeded: Seeded) -> None:
    page.goto(runs_url(seeded))
    expect(page.get_by_test_id("run-total")).to_have_text("35 top-level runs")
    first = rows(page).first
    expect(first).to_contain_text("live-run")
    expect(first).to_contain_text("Running")
    run = rows(page).filter(has_text="run-05")
    expect(run).to_contain_text("Finished")
    expect(run).to_contain_text("train.py")
    expect(run).to_contain_text("5m 0s")
    screenshot(page, "runs")


def test_sorting_by_a_column_orders_the_runs_and_is_kept_in_the_url(
    page: Page, seeded: Seeded
) -> None:
    page.goto(runs_url(seeded, cols="metrics.accuracy:latest"))
    header = page.get_by_role("columnheader").filter(has_text="accuracy")
    header.get_by_role("button", name=re.compile("^accuracy")).click()
    expect(rows(page).first).to_contain_text("run-29")  # highest accuracy first
    assert "order=metrics.accuracy+DESC" in page.url or "metrics.accuracy%20DESC" in page.url
    header.get_by_role("button", name=re.compile("^accuracy")).click()
    expect(rows(page).first).to_contain_text("run-00")
    page.reload()
    expect(rows(page).first).to_contain_text("run-00")


def test_sorting_by_duration_puts_the_longest_run_first_then_the_shortest(
    page: Page, seeded: Seeded
) -> None:
    page.goto(runs_url(seeded))
    header = page.get_by_role("columnheader").filter(has_text="Duration")
    header.get_by_role("button", name=re.compile("^Duration")).click()
    expect(rows(page).first).to_contain_text("run-29")  # ~29 minutes
    assert "attributes.duration" in urllib.parse.unquote_plus(page.url)
    header.get_by_role("button", name=re.compile("^Duration")).click()
    expect(rows(page).first).to_contain_text("run-00")  # 0.9 s


def test_the_filter_suggests_keys_and_applies_on_enter(page: Page, seeded: Seeded) -> None:
    page.goto(runs_url(seeded))
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("params.opt")
    suggestion = page.get_by_role("option", name=re.compile("params.optimizer"))
    expect(suggestion).to_be_visible()
    box.press("Tab")
    expect(box).to_have_value("params.optimizer ")
    box.type("= 'adam' AND metrics.acc")
    expect(page.get_by_role("option", name=re.compile("metrics.accuracy"))).to_be_visible()
    box.press("Tab")
    box.type("> 0.6")
    box.press("Enter")
    expect(page.get_by_test_id("run-total")).to_have_text("11 top-level runs")
    assert "filter=" in page.url


def test_a_quoted_key_with_a_space_is_followed_by_operator_suggestions(
    page: Page, seeded: Seeded
) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    exp = client.create_experiment(f"spaced-{seeded.experiment_name}")
    for name, acc in (("low", 0.2), ("high", 0.9)):
        run_id = client.create_run(exp, run_name=name).info.run_id
        client.log_metric(run_id, "train/acc top1", acc)
        client.set_terminated(run_id)
    page.goto(f"/#/experiments/{exp}")
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("metrics.train")
    box.press("Tab")
    expect(box).to_have_value("metrics.`train/acc top1` ")
    operators = page.get_by_role("option", name=re.compile("operator$"))
    expect(operators.first).to_be_visible()
    expect(page.get_by_role("option", name=re.compile(r"^metrics\.$"))).to_have_count(0)
    box.type("> 0.5")
    box.press("Enter")
    expect(page.get_by_test_id("run-total")).to_have_text("1 top-level run")
    expect(rows(page).locator("a")).to_have_text(["high"])
    # A double-quoted key is one word too.
    box.fill('metrics."train/acc top1" ')
    expect(operators.first).to_be_visible()
    expect(page.get_by_role("option", name=re.compile(r"^params\.$"))).to_have_count(0)


def test_keys_typed_right_after_a_completion_land_after_it(page: Page, seeded: Seeded) -> None:
    """On a busy machine the next frame can come after the next keys: typing straight on after
    Tab must still put them after the completion. Frames are made late on purpose here
    (requestAnimationFrame callbacks wait 300 ms), as a loaded CPU makes them."""
    page.goto(runs_url(seeded))
    page.evaluate(
        """() => {
          const later = window.requestAnimationFrame.bind(window);
          window.requestAnimationFrame = (cb) => later(() => setTimeout(() => later(cb), 300));
        }"""
    )
    box = page.get_by_label("Filter runs")
    box.click()
    box.type("metrics.acc")
    expect(page.get_by_role("option", name=re.compile("metrics.accuracy"))).to_be_visible()
    box.press("Tab")
    page.keyboard.type("> ")
    page.wait_for_timeout(700)  # the late frame comes between two keys
    page.keyboard.type("0.6")
    expect(box).to_have_value("metrics.accuracy > 0.6")


def test_a_malformed_filter_shows_the_servers_message_with_the_position(
    page: Page, seeded: Seeded
) -> None:
    page.goto(runs_url(seeded))
    box = page.get_by_label("Filter runs")
    box.fill("metrics.loss < AND")
    box.press("Enter")
    error = page.get_by_test_id("filter-error")
    expect(error).to_contain_text("Invalid filter")
    # Told about what the user typed (not the top-level condition the table adds to it).
    expect(error).to_contain_text('"metrics.loss < AND"')
    expect(error).to_contain_text("unexpected 'AND' at position 15")
    expect(error.locator("pre")).to_have_text("metrics.loss < AND\n" + " " * 15 + "^")
    expect(box).to_have_attribute("aria-invalid", "true")
    screenshot(page, "runs-bad-filter")


def test_columns_are_chosen_and_their_aggregate_changes_the_values(
    page: Page, seeded: Seeded
) -> None:
    page.goto(runs_url(seeded, cols="-", filter="attributes.run_name = 'run-00'"))
    page.get_by_role("button", name=re.compile(r"Columns \(0\)")).click()
    chooser = page.get_by_role("dialog", name="Choose columns")
    chooser.get_by_label("Search metrics").fill("loss")
    chooser.get_by_role("checkbox", name="loss").check()
    chooser.get_by_role("button", name=re.compile("^params")).click()
    chooser.get_by_role("checkbox", name="optimizer").check()
    chooser.get_by_role("button", name="Done").click()
    row = rows(page).first
    expect(row).to_contain_text("adam")
    loss = row.locator("[role=gridcell]").nth(6)
    expect(loss).to_have_text("0.02")  # the latest loss of run-00
    page.get_by_label("Aggregate of loss").select_option("max")
    expect(loss).to_have_text("1")  # its first point
    assert "metrics.loss:max" in urllib.parse.unquote(page.url)


def test_nested_runs_expand_under_their_parent(page: Page, seeded: Seeded) -> None:
    page.goto(runs_url(seeded, filter="attributes.run_name LIKE 'sweep%'"))
    expect(page.get_by_test_id("run-total")).to_have_text("1 top-level run")
    page.get_by_role("button", name="Expand 3 nested runs").click()
    # Children come right after their parent, newest first.
    expect(rows(page).locator("a")).to_have_text(
        ["sweep-parent", "sweep-child-2", "sweep-child-1", "sweep-child-0"]
    )
    page.get_by_role("button", name="Collapse 3 nested runs").click()
    expect(rows(page)).to_have_count(1)
    # Flat: children are runs like any other.
    page.get_by_label("Nested as tree").uncheck()
    expect(page.get_by_test_id("run-total")).to_have_text("4 runs")


def test_nested_runs_stay_under_their_parent_when_rows_above_it_go(
    page: Page, seeded: Seeded
) -> None:
    """Expanded runs are remembered by id: when a run listed above the parent is deleted, the
    tree moves up with its parent instead of landing under the row that took its place."""
    client = cairn.Client(tracking_uri=seeded.url)
    exp = client.create_experiment(f"tree-{seeded.experiment_name}")
    t0 = 1_700_000_000_000

    def run(name: str, start: int, parent: str | None = None) -> str:
        tags = {"mlflow.parentRunId": parent} if parent else {}
        run_id = client.create_run(exp, start_time=t0 + start, run_name=name, tags=tags).info.run_id
        client.set_terminated(run_id, end_time=t0 + start + 1)
        return run_id

    run("oldest", 0)
    level1 = run("level1", 10)
    level2 = run("level2", 20, level1)
    run("level3", 30, level2)
    run("newest", 40)
    page.goto(f"/#/experiments/{exp}")
    expect(rows(page).locator("a")).to_have_text(["newest", "level1", "oldest"])
    page.get_by_role("button", name="Expand 1 nested runs").click()
    expect(rows(page).locator("a")).to_have_text(["newest", "level1", "level2", "oldest"])
    page.get_by_role("button", name="Expand 1 nested runs").click()
    expect(rows(page).locator("a")).to_have_text(["newest", "level1", "level2", "level3", "oldest"])

    page.get_by_label("Select run newest").check()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(rows(page).locator("a")).to_have_text(["level1", "level2", "level3", "oldest"])
    # Indented by depth under the right parent: level1, then level2 and level3 deeper.
    pads = [
        rows(page)
        .nth(i)
        .locator(".cell")
        .first.evaluate("el => parseFloat(getComputedStyle(el).paddingLeft)")
        for i in range(4)
    ]
    assert pads[0] == pads[3] and pads[0] < pads[1] < pads[2], pads


def test_group_by_a_param_shows_counts_and_metric_means(page: Page, seeded: Seeded) -> None:
    page.goto(
        runs_url(seeded, filter="attributes.run_name LIKE 'run-%'", cols="metrics.accuracy:latest")
    )
    page.get_by_label("Group by").select_option("params.optimizer")
    groups = page.get_by_role("table", name="Groups")
    adam = groups.get_by_role("row").filter(has_text="adam")
    expect(adam).to_contain_text("15")
    expect(adam).to_contain_text("0.71")  # mean accuracy of the even runs: 0.5 + 0.015 * 14
    screenshot(page, "runs-grouped")
    adam.get_by_role("button", name="Show runs").click()
    expect(page.get_by_test_id("run-total")).to_have_text("15 top-level runs")


def test_a_group_expands_in_place_to_its_runs_by_click_and_keyboard(
    page: Page, seeded: Seeded
) -> None:
    page.goto(
        runs_url(seeded, filter="attributes.run_name LIKE 'run-%'", cols="metrics.accuracy:latest")
    )
    page.get_by_label("Group by").select_option("params.optimizer")
    groups = page.get_by_role("table", name="Groups")
    toggle_name = re.compile(r"^(Expand|Collapse) group adam$")
    adam_toggle = groups.get_by_role("button", name=toggle_name)
    # The inner locator of filter(has=) is queried from each row, so it starts from the page.
    adam = groups.get_by_role("row").filter(has=page.get_by_role("button", name=toggle_name))
    count = int(adam.get_by_role("cell").nth(1).inner_text())
    assert count == 15
    expect(adam_toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("table", name="Runs of adam")).to_have_count(0)

    adam_toggle.click()
    expect(adam_toggle).to_have_attribute("aria-expanded", "true")
    adam_runs = page.get_by_role("table", name="Runs of adam")
    # Right under its group's row, in the row the toggle controls.
    expanded_row = adam.locator("xpath=following-sibling::tr[1]")
    expect(expanded_row.get_by_role("table", name="Runs of adam")).to_be_visible()
    controlled = adam_toggle.get_attribute("aria-controls")
    assert controlled
    expect(expanded_row.locator(f"[id='{controlled}']")).to_contain_text("run-00")
    links = adam_runs.locator("tbody tr a")
    expect(links).to_have_count(min(count, 50))
    # The even runs use adam (the seed alternates adam, sgd), and only they are listed.
    assert sorted(links.all_inner_texts()) == [f"run-{i:02d}" for i in range(0, 30, 2)]
    run_00 = adam_runs.locator("tbody tr").filter(has_text="run-00")
    expect(run_00).to_contain_text("Finished")
    expect(run_00.get_by_role("cell").last).to_have_text("0.5")  # its accuracy column
    expect(run_00.get_by_role("link", name="run-00")).to_have_attribute(
        "href", re.compile(f"runs/{seeded.run_ids[0]}")
    )
    expect(adam_runs.locator("thead")).to_contain_text("accuracy")
    # The other group stays as it was.
    expect(page.get_by_role("table", name="Runs of sgd")).to_have_count(0)

    adam_toggle.click()
    expect(adam_toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("table", name="Runs of adam")).to_have_count(0)

    sgd_toggle = groups.get_by_role("button", name=re.compile(r"^(Expand|Collapse) group sgd$"))
    sgd_toggle.focus()
    page.keyboard.press("Enter")
    expect(sgd_toggle).to_have_attribute("aria-expanded", "true")
    sgd_links = page.get_by_role("table", name="Runs of sgd").locator("tbody tr a")
    expect(sgd_links).to_have_count(15)
    assert sorted(sgd_links.all_inner_texts()) == [f"run-{i:02d}" for i in range(1, 30, 2)]
    screenshot(page, "runs-group-expanded")


def test_selected_runs_are_deleted_and_restored(page: Page, seeded: Seeded) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    exp = client.create_experiment(f"to-delete-{seeded.experiment_name}")
    for i in range(2):
        run = client.create_run(exp, run_name=f"doomed-{i}")
        client.set_terminated(run.info.run_id)
    page.goto(f"/#/experiments/{exp}")
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Select the runs on screen").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text("No runs yet.")).to_be_visible()
    page.get_by_label("Lifecycle").select_option("DELETED_ONLY")
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Select the runs on screen").check()
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("No runs match.")).to_be_visible()
    page.get_by_label("Lifecycle").select_option("ACTIVE_ONLY")
    expect(rows(page)).to_have_count(2)


def test_the_keyboard_moves_through_rows_selects_and_opens(page: Page, seeded: Seeded) -> None:
    page.goto(runs_url(seeded, filter="attributes.run_name LIKE 'run-0%'"))
    grid = page.get_by_test_id("runs-grid")
    expect(rows(page)).to_have_count(10)
    grid.focus()
    grid.press("ArrowDown")
    grid.press(" ")
    expect(page.get_by_text("1 selected")).to_be_visible()
    second = rows(page).nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    run_id = second.get_attribute("data-run-id")
    grid.press("Enter")
    expect(page).to_have_url(re.compile(f"#/runs/{run_id}"))


def test_a_link_reproduces_filter_sort_columns_and_selection(page: Page, seeded: Seeded) -> None:
    selected = seeded.run_ids[3]
    page.goto(
        runs_url(
            seeded,
            filter="params.lr = '0.1'",
            order="metrics.accuracy ASC",
            cols="metrics.accuracy:latest,params.lr",
            sel=selected,
        )
    )
    expect(page.get_by_label("Filter runs")).to_have_value("params.lr = '0.1'")
    expect(page.get_by_test_id("run-total")).to_have_text("10 top-level runs")
    expect(rows(page).first).to_contain_text("run-00")
    expect(page.get_by_text("1 selected")).to_be_visible()
    expect(page.locator(f"[data-run-id='{selected}']")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("columnheader").filter(has_text="accuracy")).to_have_attribute(
        "aria-sort", "ascending"
    )


def test_several_experiments_show_in_one_table(page: Page, seeded: Seeded) -> None:
    page.goto("/")
    for name in (seeded.experiment_name, f"empty-{seeded.experiment_name.split('-')[1]}"):
        page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name=re.compile("Runs of selected")).click()
    expect(page.get_by_role("columnheader", name="Experiment")).to_be_visible()
    expect(page.get_by_test_id("run-total")).to_have_text("35 top-level runs")


def test_scrolling_fetches_only_the_pages_that_come_into_view(page: Page, seeded: Seeded) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    exp = client.create_experiment(f"many-{seeded.experiment_name}")
    for i in range(450):
        client.create_run(exp, start_time=1_700_000_000_000 + i, run_name=f"many-{i:03d}")
    pages: list[int] = []

    def record(request: Request) -> None:
        if request.url.endswith("/cairn/runs/table"):
            token = json.loads(request.post_data or "{}").get("page_token")
            pages.append(json.loads(base64.b64decode(token))["offset"] if token else 0)

    page.on("request", record)
    page.goto(f"/#/experiments/{exp}?cols=-")
    expect(page.get_by_test_id("run-total")).to_have_text("450 top-level runs")
    expect(rows(page).first).to_contain_text("many-449")
    assert set(pages) == {0}
    grid = page.get_by_test_id("runs-grid")
    grid.evaluate("el => el.scrollTop = el.scrollHeight")
    expect(rows(page).last).to_contain_text("many-000")
    # The pages in between were never asked for.
    assert 400 in pages
    assert 100 not in pages
    assert 200 not in pages
