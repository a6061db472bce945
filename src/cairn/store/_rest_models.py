"""Logged models (MLflow 3.x) over the REST protocol: the ``/mlflow/logged-models`` calls.

A mixin of :class:`~cairn.store.rest.RestTrackingStore`, kept apart because it is a resource
of its own (§2.4 of the protocol reference). Requests go through the store's ``_call``, so
they share its session, retries and error mapping.

    >>> _order_item("metrics.acc DESC")
    {'field_name': 'metrics.acc', 'ascending': False}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from cairn.entities import LifecycleStage, LoggedModel, PagedList
from cairn.errors import ResourceNotFound
from cairn.store._rest_codec import key_values, logged_model_from_json
from cairn.store._rest_http import Safety
from cairn.store.base import KeyValues

__all__ = ["LoggedModelCalls"]

_MODELS = "/logged-models"
#: Params per request, as MLflow's client sends them.
PARAMS_PER_REQUEST = 100
#: The contract's default page size (the protocol's own default is 50).
DEFAULT_SEARCH_RESULTS = 100


def _pairs(items: KeyValues) -> list[tuple[str, str]]:
    return list(items.items()) if isinstance(items, Mapping) else list(items)


def _order_item(item: str | Mapping[str, Any]) -> dict[str, Any]:
    """A structured ``order_by`` item; a string ``"<field> [ASC|DESC]"`` is converted."""
    if not isinstance(item, str):
        return dict(item)
    field, _, direction = item.strip().rpartition(" ")
    if direction.upper() in ("ASC", "DESC") and field.strip():
        return {"field_name": field.strip(), "ascending": direction.upper() == "ASC"}
    return {"field_name": item.strip(), "ascending": True}


class LoggedModelCalls:
    """The logged-model methods of the tracking-store contract, over REST."""

    def _call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        safety: Safety = Safety.READ,
        run_id: str | None = None,
        experiment_id: str | None = None,
        search: bool = False,
    ) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - provided by RestTrackingStore

    def _model_path(self, model_id: str, tail: str = "") -> str:
        return f"{_MODELS}/{quote(model_id, safe='')}{tail}"

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: KeyValues = (),
        params: KeyValues = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        if name == "":
            # The protocol cannot tell an empty name from none (which gets a generated one).
            from cairn.store.sql.logged_models import validate_model_name

            validate_model_name(name)
        all_params = _pairs(params)
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "tags": key_values(_pairs(tags)),
            "params": key_values(all_params[:PARAMS_PER_REQUEST]),
        }
        optional = {"name": name, "source_run_id": source_run_id, "model_type": model_type}
        body.update({k: value for k, value in optional.items() if value is not None})
        answer = self._call(
            "POST", _MODELS, body, safety=Safety.CREATE, experiment_id=experiment_id
        )
        model = logged_model_from_json(answer["model"])
        if len(all_params) > PARAMS_PER_REQUEST:
            self.log_logged_model_params(model.model_id, all_params[PARAMS_PER_REQUEST:])
            model = self.get_logged_model(model.model_id)
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        query = {"allow_deleted": "true"} if allow_deleted else {}
        answer = self._call("GET", self._model_path(model_id), query)
        info = answer["model"].get("info") or {}
        stage = None
        if allow_deleted and "lifecycle_stage" not in info:
            stage = self._lifecycle_stage(model_id)
        return logged_model_from_json(answer["model"], stage)

    def _lifecycle_stage(self, model_id: str) -> str:
        """The protocol does not say whether a model is deleted; a plain get does."""
        try:
            self._call("GET", self._model_path(model_id))
        except ResourceNotFound:
            return LifecycleStage.DELETED
        return LifecycleStage.ACTIVE

    def finalize_logged_model(self, model_id: str, status: str | int) -> LoggedModel:
        body = {"model_id": model_id, "status": status}
        answer = self._call("PATCH", self._model_path(model_id), body)
        return logged_model_from_json(answer["model"])

    def delete_logged_model(self, model_id: str) -> None:
        self._call("DELETE", self._model_path(model_id), {"model_id": model_id})

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[str | Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "datasets": [dict(d) for d in datasets or ()],
            "max_results": DEFAULT_SEARCH_RESULTS if max_results is None else max_results,
            "order_by": [_order_item(item) for item in order_by or ()],
        }
        if filter_string:
            body["filter"] = filter_string
        if page_token:
            body["page_token"] = page_token
        answer = self._call("POST", f"{_MODELS}/search", body, search=True)
        return PagedList(
            [logged_model_from_json(m) for m in answer.get("models") or ()],
            answer.get("next_page_token") or None,
        )

    def set_logged_model_tags(self, model_id: str, tags: KeyValues) -> None:
        body = {"tags": key_values(_pairs(tags))}
        self._call("PATCH", self._model_path(model_id, "/tags"), body)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._call("DELETE", self._model_path(model_id, "/tags/" + quote(key, safe="/")))

    def log_logged_model_params(self, model_id: str, params: KeyValues) -> None:
        pairs = _pairs(params)
        for start in range(0, max(len(pairs), 1), PARAMS_PER_REQUEST):
            chunk = key_values(pairs[start : start + PARAMS_PER_REQUEST])
            body = {"model_id": model_id, "params": chunk}
            self._call("POST", self._model_path(model_id, "/params"), body)
