"""The run page's "Logged models" card: the models a run produced (MLflow 3
``outputs.model_outputs``) and used (``inputs.model_inputs``), each fetched by id; a deleted
one shows its id and a note, files outside the run's artifacts show as a copyable URI."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

import cairn
from cairn.entities import ModelInput, ModelOutput
from cairn.models import _client as models
from tests.ui.conftest import screenshot
from tests.ui.seed import Seeded

pytestmark = pytest.mark.ui

# Markup in a model name (which may not hold quotes, slashes or dots) must show as text.
CLF = "clf <img src=x onerror=alert(1)>"


def client_for(seeded: Seeded) -> cairn.Client:
    client = cairn.Client(tracking_uri=seeded.url)
    client.asynchronous = False
    return client


def produced_models(seeded: Seeded, name: str) -> tuple[str, str, str, str]:
    """A run that logged a ready classifier at step 3 and a model since deleted; a second run
    that evaluated the classifier. Returns (producer run, evaluator run, classifier, deleted)."""
    client = client_for(seeded)
    exp = client.create_experiment(f"{name}-{seeded.experiment_name}")
    producer = client.create_run(exp, run_name="trainer").info.run_id
    clf = models.create_logged_model(
        client, exp, name=CLF, source_run_id=producer, model_type="classifier"
    ).model_id
    models.finalize_logged_model(client, clf, "READY")
    gone = models.create_logged_model(client, exp, name="gone", source_run_id=producer).model_id
    models.log_outputs(client, producer, [ModelOutput(clf, 3), ModelOutput(gone, 5)])
    client._sync().delete_logged_model(gone)
    client.set_terminated(producer)
    evaluator = client.create_run(exp, run_name="evaluator").info.run_id
    client.log_inputs(evaluator, models=[ModelInput(clf)])
    client.set_terminated(evaluator)
    return producer, evaluator, clf, gone


def test_a_run_lists_the_models_it_produced_and_a_deleted_one_by_id(
    page: Page, seeded: Seeded
) -> None:
    producer, _, clf, gone = produced_models(seeded, "models-out")
    page.goto(f"/#/runs/{producer}")
    card = page.get_by_test_id("logged-models")
    produced = card.get_by_role("table", name="Models produced by this run")
    row = produced.get_by_role("row").filter(has_text=clf)
    expect(row).to_contain_text(CLF)  # as text: escaped, not markup
    expect(row.get_by_role("cell").nth(2)).to_have_text("3")
    expect(row).to_contain_text("Ready")
    expect(row).to_contain_text("classifier")
    # The model's files are under the experiment, not the run: no link, a URI to copy.
    uri = row.get_by_test_id("model-artifact-uri")
    expect(uri).to_contain_text(f"models/{clf}/artifacts")
    expect(row.get_by_role("button", name=f"Copy artifact URI of {CLF}")).to_be_visible()
    expect(row.get_by_role("link")).to_have_count(0)
    deleted = produced.get_by_role("row").filter(has_text=gone)
    expect(deleted.get_by_test_id("model-missing")).to_have_text("not found (deleted?)")
    expect(card.get_by_role("table", name="Models used by this run")).to_have_count(0)
    expect(card.locator("img")).to_have_count(0)
    card.scroll_into_view_if_needed()
    screenshot(page, "run-logged-models")


def test_a_run_lists_the_models_it_used_with_the_run_that_produced_them(
    page: Page, seeded: Seeded
) -> None:
    producer, evaluator, clf, _ = produced_models(seeded, "models-in")
    page.goto(f"/#/runs/{evaluator}")
    card = page.get_by_test_id("logged-models")
    used = card.get_by_role("table", name="Models used by this run")
    row = used.get_by_role("row").filter(has_text=clf)
    expect(row).to_contain_text("Ready")
    expect(card.get_by_role("table", name="Models produced by this run")).to_have_count(0)
    row.get_by_role("link", name=producer).click()
    expect(page.get_by_test_id("run-title")).to_have_text("trainer")


def test_a_model_whose_files_are_in_the_run_links_to_the_artifact_browser(
    page: Page, seeded: Seeded
) -> None:
    """The server puts log_model's files under the experiment; a model stored under the run
    (as other servers may) is answered here with such an artifact URI."""
    producer, _, clf, _ = produced_models(seeded, "models-link")
    run_uri = client_for(seeded).get_run(producer).info.artifact_uri

    def under_the_run(route: Route) -> None:
        body = route.fetch().json()
        body["model"]["info"]["artifact_uri"] = f"{run_uri}/model"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route(f"**/logged-models/{clf}*", under_the_run)
    page.goto(f"/#/runs/{producer}")
    row = page.get_by_role("table", name="Models produced by this run").get_by_role("row")
    link = row.filter(has_text=clf).get_by_role("link", name="model")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(f"{seeded.url}/#/runs/{producer}?tab=artifacts&path=model")


def test_a_run_with_no_models_says_so(page: Page, seeded: Seeded) -> None:
    page.goto(f"/#/runs/{seeded.artifacts_id}")
    card = page.get_by_test_id("logged-models")
    expect(card).to_contain_text("No models logged or used by this run.")
    expect(card.get_by_role("table")).to_have_count(0)
