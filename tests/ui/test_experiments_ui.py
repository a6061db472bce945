"""The experiments page: list, search, counts; create, rename, delete and restore."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import cairn
from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui


def row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("experiment-row").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def test_experiments_are_listed_with_run_counts_and_last_activity(
    page: Page, seeded: Seeded
) -> None:
    page.goto("/")
    main = row(page, seeded.experiment_name)
    expect(main).to_contain_text("38")  # 30 runs + parent + 3 children + 4 others
    expect(main).to_contain_text(re.compile(r"ago|\d{2}:\d{2}"))
    screenshot(page, "experiments")


def test_search_narrows_the_list_and_is_kept_in_the_url(page: Page, seeded: Seeded) -> None:
    page.goto("/")
    page.get_by_label("Search experiments").fill(seeded.experiment_name)
    expect(row(page, seeded.experiment_name)).to_be_visible()
    expect(row(page, "Default")).to_have_count(0)
    assert seeded.experiment_name in page.url
    page.reload()
    expect(row(page, seeded.experiment_name)).to_be_visible()
    expect(row(page, "Default")).to_have_count(0)
    page.get_by_label("Search experiments").fill("no-such-experiment-anywhere")
    expect(page.get_by_text('No experiment matches "no-such-experiment-anywhere"')).to_be_visible()


def test_create_rename_delete_and_restore_an_experiment(page: Page, seeded: Seeded) -> None:
    page.goto("/")
    page.get_by_role("button", name="New experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    dialog.get_by_role("textbox").fill(f"made-in-ui-{seeded.experiment_name}")
    dialog.get_by_role("button", name="Create").click()
    # Creating opens the new, empty experiment, which tells a new user how to log a run.
    expect(page.get_by_text("No runs yet.")).to_be_visible()
    expect(page.get_by_text("cairn.start_run()", exact=False)).to_be_visible()

    page.goto("/")
    created = row(page, f"made-in-ui-{seeded.experiment_name}")
    created.get_by_role("button", name="Rename").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox").fill(f"renamed-{seeded.experiment_name}")
    dialog.get_by_role("button", name="Rename").click()
    renamed = row(page, f"renamed-{seeded.experiment_name}")
    expect(renamed).to_be_visible()

    page.once("dialog", lambda d: d.accept())
    renamed.get_by_role("button", name="Delete").click()
    expect(renamed).to_have_count(0)

    page.get_by_label("Which experiments").select_option("DELETED_ONLY")
    deleted = row(page, f"renamed-{seeded.experiment_name}")
    expect(deleted).to_contain_text("deleted")
    deleted.get_by_role("button", name="Restore").click()
    expect(deleted).to_have_count(0)
    page.get_by_label("Which experiments").select_option("ACTIVE_ONLY")
    expect(row(page, f"renamed-{seeded.experiment_name}")).to_be_visible()


def test_the_dialog_keeps_keyboard_focus_inside_and_returns_it_on_escape(page: Page) -> None:
    page.goto("/")
    opener = page.get_by_role("button", name="New experiment")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New experiment")
    expect(dialog.get_by_role("textbox")).to_be_focused()
    dialog.get_by_role("textbox").fill("x")
    inside = "el => el.closest('[role=dialog]') !== null"
    for _ in range(5):  # more presses than the dialog has controls: focus wraps around
        page.keyboard.press("Tab")
        assert page.evaluate(f"({inside})(document.activeElement)")
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
        assert page.evaluate(f"({inside})(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()


def test_a_taken_name_is_refused_with_the_servers_message(page: Page, seeded: Seeded) -> None:
    page.goto("/")
    page.get_by_role("button", name="New experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    dialog.get_by_role("textbox").fill(seeded.experiment_name)
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")


def test_an_empty_experiment_shows_how_to_log_a_first_run(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/experiments/{seeded.empty_experiment_id}")
    expect(page.get_by_text("No runs yet.")).to_be_visible()
    expect(page.locator("pre")).to_contain_text("cairn.set_experiment(")
    expect(page.locator("pre")).to_contain_text('cairn.log_metric("loss"')


def test_a_deleted_experiment_says_so_and_is_restored_from_its_page(
    page: Page, seeded: Seeded
) -> None:
    client = cairn.Client(tracking_uri=seeded.url)
    exp = client.create_experiment(f"gone-{seeded.experiment_name}")
    run_id = client.create_run(exp, run_name="kept-run").info.run_id
    client.set_terminated(run_id)
    client.delete_experiment(exp)
    page.goto(f"/#/experiments/{exp}")
    notice = page.get_by_test_id("deleted-experiment")
    expect(notice).to_contain_text(f'Experiment "gone-{seeded.experiment_name}" is deleted.')
    # Not an empty experiment to log into: logging into a deleted one fails.
    expect(page.get_by_text("No active runs.")).to_be_visible()
    expect(page.get_by_text("No runs yet.")).to_have_count(0)
    expect(page.locator("pre")).to_have_count(0)
    screenshot(page, "deleted-experiment")
    # Its runs were deleted with it, and are listed with the deleted runs.
    notice.get_by_role("button", name="Show deleted runs").click()
    expect(page.get_by_label("Lifecycle")).to_have_value("DELETED_ONLY")
    expect(page.get_by_test_id("runs-grid")).to_contain_text("kept-run")
    notice.get_by_role("button", name="Restore experiment").click()
    expect(notice).to_have_count(0)
    assert client.get_experiment(exp).lifecycle_stage == "active"
    page.get_by_label("Lifecycle").select_option("ACTIVE_ONLY")
    expect(page.get_by_test_id("runs-grid")).to_contain_text("kept-run")


def test_a_long_experiment_name_leaves_the_columns_and_actions_on_screen(
    page: Page, seeded: Seeded
) -> None:
    name = "E" * 240 + seeded.experiment_name
    cairn.Client(tracking_uri=seeded.url).create_experiment(name)
    page.goto("/")
    long = row(page, name)
    expect(long.get_by_role("link")).to_have_attribute("title", name)  # in full on hover
    card = page.locator(".card").filter(has=page.get_by_role("table", name="Experiments"))
    assert card.evaluate("el => el.scrollWidth <= el.clientWidth"), "the table overflows"
    frame = card.bounding_box()
    assert frame is not None
    for action in ("Rename", "Delete"):
        box = long.get_by_role("button", name=action).bounding_box()
        assert box is not None and box["x"] + box["width"] <= frame["x"] + frame["width"], action
    expect(long.locator("td").nth(3)).to_have_text("0")  # the run count, next to the name
    screenshot(page, "experiments-long-name")


def test_an_unknown_experiment_in_the_url_says_so(page: Page) -> None:
    page.goto("/#/experiments/987654")
    expect(page.get_by_role("alert")).to_contain_text('No experiment with id "987654"')
    expect(page.get_by_role("link", name="Go to the experiments")).to_be_visible()


def test_an_unknown_address_says_so(page: Page) -> None:
    page.goto("/#/no/such/page")
    expect(page.get_by_role("alert")).to_contain_text("No such page")
