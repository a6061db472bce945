"""Request messages of MLflow's REST protocol, as pydantic models.

They parse what MLflow clients send: snake_case or lowerCamel field names (never both for one
field), int64 as JSON numbers or numeric strings, doubles as numbers or ``"NaN"``/
``"Infinity"``, enums by name or number, unknown fields ignored. Validation failures become the
protocol's ``INVALID_PARAMETER_VALUE`` errors naming the field (see :mod:`.parsing`). The same
models document the API in the OpenAPI document.

    >>> LogMetric.model_validate({"runId": "abc", "key": "m", "value": "NaN", "timestamp": "5"})
    LogMetric(run_id='abc', run_uuid=None, key='m', value=nan, timestamp=5, step=0, ...)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from cairn.entities import RunStatus, ViewType
from cairn.validation import MAX_SEARCH_RESULTS


def _enum_by_name_or_number(enum: Any) -> Any:
    def parse(value: Any) -> Any:
        if isinstance(value, str) and not value.lstrip("-").isdigit():
            try:
                return enum[value.strip().upper()].name
            except KeyError:
                names = ", ".join(m.name for m in enum)
                raise ValueError(f"unknown value {value!r}; expected one of {names}") from None
        try:
            return enum(int(value)).name
        except (TypeError, ValueError):
            names = ", ".join(m.name for m in enum)
            raise ValueError(f"unknown value {value!r}; expected one of {names}") from None

    return BeforeValidator(parse)


def _nullable_list(value: Any) -> Any:
    return [] if value is None else value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    return value


StatusName = Annotated[str, _enum_by_name_or_number(RunStatus)]
#: A double: a JSON number or "NaN"/"Infinity"/"-Infinity"; booleans are refused.
Double = Annotated[float, BeforeValidator(_not_bool)]
ViewTypeName = Annotated[str, _enum_by_name_or_number(ViewType)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
StrList = Annotated[list[str], BeforeValidator(_nullable_list)]


class Message(BaseModel):
    """Base of every request message."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        str_strip_whitespace=False,
        loc_by_alias=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _one_spelling_per_field(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                alias = field.alias
                if alias and alias != name and name in data and alias in data:
                    raise ValueError(f"field {name!r} is given twice (as {name} and {alias})")
        return data


class KeyValue(Message):
    key: str
    value: str = ""


class RunRef(Message):
    """Messages naming a run: ``run_id``, or its older name ``run_uuid``."""

    run_id: str | None = None
    run_uuid: str | None = None

    @model_validator(mode="after")
    def _needs_a_run(self) -> RunRef:
        if not (self.run_id or self.run_uuid):
            raise ValueError("Missing value for required parameter 'run_id'")
        return self

    @property
    def id(self) -> str:
        return self.run_id or self.run_uuid or ""


# -- experiments -----------------------------------------------------------------------------


class CreateExperiment(Message):
    name: str
    artifact_location: str | None = None
    tags: list[KeyValue] = []


class GetExperiment(Message):
    experiment_id: str


class GetExperimentByName(Message):
    experiment_name: str


class SearchExperiments(Message):
    max_results: Int64 = Field(1000, ge=1, le=MAX_SEARCH_RESULTS)
    page_token: str | None = None
    filter: str | None = None
    order_by: StrList = []
    view_type: ViewTypeName = "ACTIVE_ONLY"


class UpdateExperiment(Message):
    experiment_id: str
    new_name: str


class ExperimentRef(Message):
    experiment_id: str


class SetExperimentTag(Message):
    experiment_id: str
    key: str
    value: str


class DeleteExperimentTag(Message):
    experiment_id: str
    key: str


# -- runs ------------------------------------------------------------------------------------


class CreateRun(Message):
    experiment_id: str = "0"
    user_id: str | None = None
    run_name: str | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = []


class GetRun(RunRef):
    pass


class UpdateRun(RunRef):
    status: StatusName | None = None
    end_time: Int64 | None = None
    run_name: str | None = None


class DeleteRun(Message):
    run_id: str


class SearchRuns(Message):
    experiment_ids: StrList = []
    filter: str | None = None
    run_view_type: ViewTypeName = "ACTIVE_ONLY"
    max_results: int = Field(1000, ge=1, le=MAX_SEARCH_RESULTS)
    order_by: StrList = []
    page_token: str | None = None


class LogMetric(RunRef):
    key: str
    value: Double
    timestamp: Int64
    step: Int64 = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


class LogParam(RunRef):
    key: str
    value: str = ""


class SetTag(RunRef):
    key: str
    value: str = ""


class DeleteTag(Message):
    run_id: str
    key: str


class MetricMessage(Message):
    key: str
    value: Double
    timestamp: Int64
    step: Int64 = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


class LogBatch(Message):
    run_id: str
    metrics: list[MetricMessage] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class DatasetMessage(Message):
    name: str
    digest: str
    source_type: str
    source: str
    schema_: str | None = Field(None, alias="schema")
    profile: str | None = None


class InputTagMessage(Message):
    key: str
    value: str


class DatasetInputMessage(Message):
    tags: list[InputTagMessage] = []
    dataset: DatasetMessage


class ModelInputMessage(Message):
    model_id: str


class LogInputs(Message):
    run_id: str
    datasets: list[DatasetInputMessage] = []
    models: list[ModelInputMessage] = []


class ModelOutputMessage(Message):
    model_id: str
    step: Int64


class LogOutputs(Message):
    run_id: str
    models: list[ModelOutputMessage]


class LogModel(Message):
    run_id: str
    model_json: str


# -- metrics ---------------------------------------------------------------------------------


class GetMetricHistory(RunRef):
    metric_key: str
    max_results: int | None = Field(None, ge=1)
    page_token: str | None = None


class GetMetricHistoryBulkInterval(Message):
    run_ids: StrList = Field(min_length=1, max_length=100)
    metric_key: str
    start_step: int | None = None
    end_step: int | None = None
    max_results: int = Field(2500, ge=1, le=2500)

    @model_validator(mode="after")
    def _steps_together(self) -> GetMetricHistoryBulkInterval:
        if (self.start_step is None) != (self.end_step is None):
            raise ValueError("start_step and end_step must be given together")
        if (
            self.start_step is not None
            and self.end_step is not None
            and self.start_step > self.end_step
        ):
            raise ValueError("start_step must not be greater than end_step")
        return self


class Empty(Message):
    pass
