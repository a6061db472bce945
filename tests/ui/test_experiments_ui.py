"""The experiments page: list, search, counts; create, rename, delete and restore."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

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


def test_an_unknown_experiment_in_the_url_says_so(page: Page) -> None:
    page.goto("/#/experiments/987654")
    expect(page.get_by_role("alert")).to_contain_text('No experiment with id "987654"')
    expect(page.get_by_role("link", name="Go to the experiments")).to_be_visible()


def test_an_unknown_address_says_so(page: Page) -> None:
    page.goto("/#/no/such/page")
    expect(page.get_by_role("alert")).to_contain_text("No such page")
