"""The things cairn records, as immutable values shaped like MLflow's entities.

Stores return these; nothing a store returns can be changed by the caller, so a value can be
cached and shared between threads. Field names follow MLflow (``run.info.run_id``,
``run.data.metrics``), so code written against MLflow's entities reads them unchanged.

Example::

    >>> m = Metric("loss", 0.25, timestamp=1_700_000_000_000, step=3)
    >>> m.key, m.value, m.step
    ('loss', 0.25, 3)
    >>> data = RunData(metrics={"loss": 0.25}, params={"lr": "0.1"}, tags={})
    >>> data.params["lr"]
    '0.1'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NoReturn, TypeVar

__all__ = [
    "Dataset",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "FrozenDict",
    "InputTag",
    "LifecycleStage",
    "Metric",
    "ModelInput",
    "ModelOutput",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class FrozenDict(dict[K, V]):
    """A ``dict`` that refuses changes; equal to, and as fast to read as, a plain dict."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("cairn entities are immutable; copy with dict(...) to change one")

    __setitem__ = __delitem__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return dict.__repr__(self)


class RunStatus(IntEnum):
    """A run's status; ``run.info.status`` holds the name (``"FINISHED"``), as in MLflow."""

    RUNNING = 1
    SCHEDULED = 2
    FINISHED = 3
    FAILED = 4
    KILLED = 5

    @staticmethod
    def to_string(status: int | str) -> str:
        """``RunStatus.to_string(RunStatus.FAILED) == "FAILED"``; names pass through."""
        if isinstance(status, str):
            return RunStatus.from_string(status).name
        return RunStatus(status).name

    @staticmethod
    def from_string(name: str) -> RunStatus:
        """The status named ``name`` (case-insensitive). Raises ``ValueError`` if unknown."""
        try:
            return RunStatus[name.upper()]
        except KeyError:
            known = ", ".join(s.name for s in RunStatus)
            raise ValueError(f"unknown run status {name!r}; expected one of {known}") from None

    @staticmethod
    def is_terminated(status: int | str) -> bool:
        """True for FINISHED, FAILED and KILLED."""
        if isinstance(status, str):
            status = RunStatus.from_string(status)
        return status in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)

    @staticmethod
    def all_status() -> list[int]:
        return [int(s) for s in RunStatus]


class ViewType(IntEnum):
    """Which lifecycle stages a search covers."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @staticmethod
    def from_string(name: str | int | ViewType) -> ViewType:
        """Accepts a ViewType, its number, or its name in any case."""
        if isinstance(name, ViewType):
            return name
        if isinstance(name, int):
            return ViewType(name)
        try:
            return ViewType[name.strip().upper()]
        except KeyError:
            raise ValueError(
                f"unknown view type {name!r}; expected ACTIVE_ONLY, DELETED_ONLY or ALL"
            ) from None

    @staticmethod
    def to_string(view_type: int) -> str:
        return ViewType(view_type).name


class LifecycleStage:
    """Lifecycle of experiments and runs: soft-deleted things keep their data until ``gc``."""

    ACTIVE = "active"
    DELETED = "deleted"

    @staticmethod
    def view_type_to_stages(view_type: int) -> list[str]:
        if view_type == ViewType.ACTIVE_ONLY:
            return [LifecycleStage.ACTIVE]
        if view_type == ViewType.DELETED_ONLY:
            return [LifecycleStage.DELETED]
        return [LifecycleStage.ACTIVE, LifecycleStage.DELETED]


@dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric series."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None
    #: MLflow 3.x: the dataset the metric was computed on, and the logged model it describes.
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ExperimentTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset a run used; ``source``, ``schema`` and ``profile`` are opaque JSON text."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetInput:
    dataset: Dataset
    tags: tuple[InputTag, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelInput:
    model_id: str


@dataclass(frozen=True, slots=True)
class ModelOutput:
    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True)
class RunInputs:
    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[ModelInput, ...] = ()


@dataclass(frozen=True, slots=True)
class RunOutputs:
    model_outputs: tuple[ModelOutput, ...] = ()


@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment: a named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: Mapping[str, str] = field(default_factory=FrozenDict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run's attributes. ``status`` is a name such as ``"RUNNING"``; times are epoch ms."""

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str = LifecycleStage.ACTIVE

    @property
    def run_uuid(self) -> str:
        """MLflow's older name for ``run_id``."""
        return self.run_id


@dataclass(frozen=True, slots=True)
class RunData:
    """What a run logged: ``metrics`` holds the latest value of each key, and
    ``metric_steps`` the (step, timestamp) of that latest point."""

    metrics: Mapping[str, float] = field(default_factory=FrozenDict)
    params: Mapping[str, str] = field(default_factory=FrozenDict)
    tags: Mapping[str, str] = field(default_factory=FrozenDict)
    metric_steps: Mapping[str, tuple[int, int]] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        for name in ("metrics", "params", "tags", "metric_steps"):
            value = getattr(self, name)
            if type(value) is not FrozenDict:
                object.__setattr__(self, name, FrozenDict(value))


@dataclass(frozen=True, slots=True)
class Run:
    """A run: its :class:`RunInfo`, :class:`RunData`, inputs and outputs."""

    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """An artifact: ``path`` relative to the run's artifact root; ``file_size`` None for dirs."""

    path: str
    is_dir: bool
    file_size: int | None = None


class PagedList(list[T]):
    """A page of results; ``token`` fetches the next page (None on the last one).

    >>> page = PagedList([1, 2], token="abc")
    >>> list(page), page.token
    ([1, 2], 'abc')
    """

    def __init__(self, items: Iterable[T] = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token


# -- logged models (MLflow 3.x) -----------------------------------------------------------------


class LoggedModelStatus(IntEnum):
    """A logged model's status; ``model.status`` holds the name (``"LOGGED_MODEL_READY"``)."""

    LOGGED_MODEL_STATUS_UNSPECIFIED = 0
    LOGGED_MODEL_PENDING = 1
    LOGGED_MODEL_READY = 2
    LOGGED_MODEL_UPLOAD_FAILED = 3

    @staticmethod
    def from_string(status: str | int) -> LoggedModelStatus:
        """The status named ``status``: the protocol's name (``LOGGED_MODEL_READY``), the short
        name MLflow's entities use (``READY``, ``PENDING``, ``FAILED``; any case) or the number.

        >>> LoggedModelStatus.from_string("ready").name
        'LOGGED_MODEL_READY'

        Raises ``ValueError`` if unknown.
        """
        if isinstance(status, int) and not isinstance(status, bool):
            try:
                return LoggedModelStatus(status)
            except ValueError:
                pass
        elif isinstance(status, str):
            name = status.strip().upper()
            name = _LOGGED_MODEL_STATUS_ALIASES.get(name, name)
            if name.isdigit():
                return LoggedModelStatus.from_string(int(name))
            if name in LoggedModelStatus.__members__:
                return LoggedModelStatus[name]
        known = ", ".join(s.name for s in LoggedModelStatus)
        raise ValueError(f"unknown logged model status {status!r}; expected one of {known}")


_LOGGED_MODEL_STATUS_ALIASES = {
    "UNSPECIFIED": "LOGGED_MODEL_STATUS_UNSPECIFIED",
    "PENDING": "LOGGED_MODEL_PENDING",
    "READY": "LOGGED_MODEL_READY",
    "FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
    "UPLOAD_FAILED": "LOGGED_MODEL_UPLOAD_FAILED",
}


@dataclass(frozen=True, slots=True)
class LoggedModelRegistration:
    """A registered-model version created from a logged model."""

    name: str
    version: str


@dataclass(frozen=True, slots=True)
class LoggedModel:
    """A model logged with MLflow 3.x's ``log_model``: its own id, artifacts, params, tags and
    the metrics logged against it (``metrics`` holds every point, each with its ``run_id``).

    ``status`` is a :class:`LoggedModelStatus` name; times are epoch ms; ``artifact_uri`` is
    ``<experiment artifact location>/models/<model_id>/artifacts``.
    """

    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    status: str = LoggedModelStatus.LOGGED_MODEL_PENDING.name
    creator_id: int | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: Mapping[str, str] = field(default_factory=FrozenDict)
    params: Mapping[str, str] = field(default_factory=FrozenDict)
    metrics: tuple[Metric, ...] = ()
    registrations: tuple[LoggedModelRegistration, ...] = ()
    lifecycle_stage: str = LifecycleStage.ACTIVE

    def __post_init__(self) -> None:
        for name in ("tags", "params"):
            value = getattr(self, name)
            if type(value) is not FrozenDict:
                object.__setattr__(self, name, FrozenDict(value))

    @property
    def model_uri(self) -> str:
        """``models:/<model_id>``, the URI that loads this model."""
        return f"models:/{self.model_id}"

    @property
    def artifact_location(self) -> str:
        """MLflow's entity name for ``artifact_uri``."""
        return self.artifact_uri


__all__ += ["LoggedModel", "LoggedModelRegistration", "LoggedModelStatus"]
