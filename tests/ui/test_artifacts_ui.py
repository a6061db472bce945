"""The artifact browser: previews of every kind, safe handling of HTML, binary and huge files,
and downloads of files and folders."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import Page, Route, expect

from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui


def open_file(page: Page, seeded: Seeded, path: str) -> None:
    page.goto(f"/#/runs/{seeded.artifacts_id}?tab=artifacts&path={path}")


def preview(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("artifact-preview")


def test_the_tree_opens_folders_and_previews_an_image(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.artifacts_id}?tab=artifacts")
    tree = page.get_by_role("tree", name="Artifacts")
    tree.get_by_role("button", name="plots").click()
    tree.get_by_role("button", name="curve.png").click()
    image = page.get_by_test_id("image-preview")
    expect(image).to_be_visible()
    page.wait_for_function(
        "document.querySelector('[data-testid=image-preview]').naturalWidth === 64"
    )
    screenshot(page, "artifacts-image")


def test_text_json_yaml_and_markdown_like_files_are_shown(page: Page, seeded: Seeded) -> None:
    open_file(page, seeded, "notes.txt")
    expect(page.get_by_test_id("text-preview")).to_contain_text("Training notes")
    open_file(page, seeded, "config.json")
    expect(page.get_by_test_id("json-preview")).to_contain_text('"layers"')
    open_file(page, seeded, "config.yaml")
    expect(page.get_by_test_id("text-preview")).to_contain_text("layers:")


def test_csv_and_logged_tables_are_shown_as_tables(page: Page, seeded: Seeded) -> None:
    open_file(page, seeded, "metrics.csv")
    table = page.get_by_test_id("table-preview")
    expect(table.get_by_role("columnheader")).to_have_text(["epoch", "loss", "acc"])
    expect(table.get_by_role("row").filter(has_text="0.25")).to_contain_text("0.9")
    open_file(page, seeded, "predictions.json")
    table = page.get_by_test_id("table-preview")
    expect(table.get_by_role("columnheader")).to_have_text(["text", "label"])
    expect(table).to_contain_text("world")
    screenshot(page, "artifacts-table")


def test_html_is_previewed_in_a_sandbox_where_scripts_do_not_run(
    page: Page, seeded: Seeded
) -> None:
    open_file(page, seeded, "report.html")
    frame = page.get_by_test_id("html-preview")
    expect(frame).to_have_attribute("sandbox", "")
    inner = page.frame_locator("[data-testid=html-preview]")
    expect(inner.locator("h1")).to_have_text("Report")
    expect(inner.locator("#p")).to_have_text("static")
    assert page.evaluate("window.__xss") is None


def test_an_mlmodel_file_shows_flavors_and_signature(page: Page, seeded: Seeded) -> None:
    open_file(page, seeded, "model/MLmodel")
    model = page.get_by_test_id("mlmodel-preview")
    expect(model).to_contain_text("sklearn")
    expect(model).to_contain_text("python_function")
    expect(model.get_by_role("row").filter(has_text="sepal_width")).to_contain_text("double")
    screenshot(page, "artifacts-mlmodel")


def test_binary_and_huge_files_are_offered_for_download_not_loaded(
    page: Page, seeded: Seeded
) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url) if "/get-artifact" in r.url else None)
    open_file(page, seeded, "weights.bin")
    expect(page.get_by_test_id("preview-message")).to_contain_text("Binary file")
    open_file(page, seeded, "huge.csv")
    expect(page.get_by_test_id("preview-message")).to_contain_text("too large to preview")
    assert loaded == []
    with page.expect_download() as download:
        preview(page).get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "huge.csv"


def test_a_huge_log_shows_its_beginning_and_loads_nothing_more(page: Page, seeded: Seeded) -> None:
    ranges: list[str | None] = []
    page.on(
        "request",
        lambda r: ranges.append(r.headers.get("range")) if "/get-artifact" in r.url else None,
    )
    # The body is read from the awaited response, not inside an event handler: handlers run
    # only while the test is inside a Playwright call, so a list they fill can still be empty
    # when the page has already drawn the preview.
    with page.expect_response(lambda r: "/get-artifact" in r.url) as response_info:
        open_file(page, seeded, "huge.log")
    expect(page.get_by_test_id("preview-message")).to_contain_text(
        "This file is 3.0 MB: showing its first 2.0 MB"
    )
    expect(page.get_by_test_id("text-preview")).to_contain_text("0123456789abcdef")
    response = response_info.value
    assert response.status == 206
    assert len(response.body()) == 2 * 1024 * 1024
    assert ranges == [f"bytes=0-{2 * 1024 * 1024 - 1}"]
    with page.expect_download() as download:
        preview(page).get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "huge.log"
    assert download.value.path().stat().st_size == 3 * 1024 * 1024


def test_a_server_that_ignores_the_range_still_shows_only_the_beginning(
    page: Page, seeded: Seeded
) -> None:
    whole = b"0123456789abcdef" * (3 * 1024 * 1024 // 16)

    def whole_file(route: Route) -> None:  # as a server without Range support answers
        route.fulfill(status=200, body=whole, headers={"Content-Type": "text/plain"})

    page.route("**/get-artifact?*", whole_file)
    open_file(page, seeded, "huge.log")
    expect(page.get_by_test_id("text-preview")).to_contain_text("0123456789abcdef")
    shown = page.get_by_test_id("text-preview").evaluate("el => el.textContent.length")
    assert shown == 2 * 1024 * 1024


def test_a_folder_downloads_as_a_zip(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.artifacts_id}?tab=artifacts")
    page.get_by_role("tree", name="Artifacts").get_by_role("button", name="model").click()
    with page.expect_download() as download:
        preview(page).get_by_role("link", name="Download folder (.zip)").click()
    assert download.value.suggested_filename == "model.zip"
    path = download.value.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert archive.namelist() == ["MLmodel"]
        assert b"sklearn" in archive.read("MLmodel")


def test_a_missing_artifact_in_the_url_says_so(page: Page, seeded: Seeded) -> None:
    open_file(page, seeded, "no/such/file.txt")
    expect(preview(page).get_by_role("alert")).to_contain_text('No artifact "no/such/file.txt"')
