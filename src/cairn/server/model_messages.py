"""Request messages of MLflow 3.x's logged-model endpoints (``/mlflow/logged-models...``).

Parsed like every message of :mod:`.messages`: snake_case or lowerCamel names, numbers or
numeric strings, unknown fields ignored. Path parameters (``model_id``, ``tag_key``) are merged
into the message by :func:`cairn.server.rpc.read_message`.

    >>> FinalizeLoggedModel.model_validate({"model_id": "m-1", "status": "LOGGED_MODEL_READY"})
    FinalizeLoggedModel(model_id='m-1', status='LOGGED_MODEL_READY')
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from cairn.entities import LoggedModelStatus
from cairn.server.messages import KeyValue, Message, StrList
from cairn.validation import MAX_SEARCH_RESULTS

#: What the proto gives ``max_results`` when a search request leaves it out.
DEFAULT_SEARCH_RESULTS = 50


def _status_name(value: Any) -> str:
    """A status by its protocol name, MLflow's short name (``READY``) or number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"unknown value {value!r}; expected a LoggedModelStatus name")
    try:
        return LoggedModelStatus.from_string(value).name
    except ValueError as err:
        raise ValueError(str(err)) from None


StatusName = Annotated[str, BeforeValidator(_status_name)]


class CreateLoggedModel(Message):
    experiment_id: str
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = Field(default_factory=list)
    tags: list[KeyValue] = Field(default_factory=list)


class GetLoggedModel(Message):
    model_id: str
    allow_deleted: bool = False


class FinalizeLoggedModel(Message):
    model_id: str
    status: StatusName


class LoggedModelRef(Message):
    model_id: str


class SetLoggedModelTags(Message):
    model_id: str
    tags: list[KeyValue] = Field(default_factory=list)


class DeleteLoggedModelTag(Message):
    model_id: str
    tag_key: str


class LogLoggedModelParams(Message):
    model_id: str
    params: list[KeyValue] = Field(default_factory=list)


class DatasetFilter(Message):
    dataset_name: str
    dataset_digest: str | None = None


class OrderBy(Message):
    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


class SearchLoggedModels(Message):
    experiment_ids: StrList = Field(default_factory=list)
    filter: str | None = None
    datasets: list[DatasetFilter] = Field(default_factory=list)
    max_results: int = Field(DEFAULT_SEARCH_RESULTS, ge=1, le=MAX_SEARCH_RESULTS)
    order_by: list[OrderBy] = Field(default_factory=list)
    page_token: str | None = None
