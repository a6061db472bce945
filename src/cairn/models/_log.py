"""``<flavor>.log_model``: save a model and record it as an MLflow 3.x logged model.

The steps are MLflow's (protocol reference §8.2), so the store holds the same things whichever
client logged the model:

1. create the logged model (status PENDING) in the run's experiment, with the run's params;
2. when there is a run: record it as the run's output at ``step`` and link the run's metrics at
   that step to the model;
3. save the model into a temporary folder (its ``MLmodel`` names the model and run);
4. upload the folder to the model's artifact location;
5. record the digest of the files (tag ``cairn.model.digest``, see :mod:`cairn.models.trust`);
6. finalize: READY, or UPLOAD_FAILED if anything above failed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.entities import LoggedModel, ModelOutput
from cairn.errors import InvalidParameter
from cairn.models.errors import RegistryNotAvailable
from cairn.models.mlmodel import Model
from cairn.models.trust import DIGEST_TAG, model_digest

if TYPE_CHECKING:
    from cairn.models.schema import ModelSignature

__all__ = ["ModelInfo", "log_model"]

#: Set by the most recent log_model of this process (``cairn.last_logged_model``).
last_model_id: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns: where the model is and how to load it.

    ``model_uri`` (``models:/<model_id>``) loads it with any ``load_model``.
    """

    model_id: str
    name: str
    model_uri: str
    artifact_path: str
    run_id: str | None
    flavors: dict[str, Any]
    signature: ModelSignature | None
    saved_input_example_info: dict[str, Any] | None
    utc_time_created: str
    model_uuid: str
    metadata: dict[str, Any] | None
    cairn_version: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    registered_model_version: int | None = None

    @property
    def model_uri_for_run(self) -> str | None:
        """``runs:/<run_id>/<name>``, which also loads this model (None without a run)."""
        return f"runs:/{self.run_id}/{self.name}" if self.run_id else None


def log_model(
    save: Callable[[Path, Model], None],
    *,
    name: str | None,
    artifact_path: str | None,
    registered_model_name: str | None,
    params: Mapping[str, Any] | None,
    tags: Mapping[str, Any] | None,
    model_type: str | None,
    step: int,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a model through ``save(path, mlflow_model)`` (the flavor's save_model).

    Raises:
        RegistryNotAvailable: ``registered_model_name`` was given (before anything is logged).
        InvalidParameter: both ``name`` and ``artifact_path``.
    """
    global last_model_id
    from cairn import _fluent
    from cairn.models import _client

    if registered_model_name is not None:
        raise RegistryNotAvailable(f"log_model(registered_model_name={registered_model_name!r})")
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidParameter("Pass name (artifact_path is its deprecated spelling), not both")
    name = name or artifact_path
    client = _fluent._client()
    active = _fluent.active_run()
    if run_id is None and active is not None:
        run_id = active.info.run_id
    run_params: dict[str, str] = {}
    if run_id is not None:
        run = client.get_run(run_id)
        experiment_id = run.info.experiment_id
        run_params = dict(run.data.params)
    else:
        experiment_id = _fluent._current_experiment_id()
    all_tags = {**_fluent._system_tags(), **{k: str(v) for k, v in (tags or {}).items()}}
    all_params = {**{k: str(v) for k, v in (params or {}).items()}, **run_params}
    logged = _client.create_logged_model(
        client, experiment_id, name, run_id, all_tags, all_params, model_type
    )
    last_model_id = logged.model_id
    try:
        if run_id is not None:
            _client.log_outputs(client, run_id, [ModelOutput(logged.model_id, step)])
            _client.link_run_metrics(client, run_id, logged.model_id, step)
        with tempfile.TemporaryDirectory(prefix="cairn-log-model-") as tmp:
            local = Path(tmp) / "model"
            mlmodel = Model(
                artifact_path=logged.artifact_uri,
                run_id=run_id,
                model_id=logged.model_id,
                model_uuid=logged.model_id,
            )
            save(local, mlmodel)
            # Signature inference may import the model's code, leaving caches that are not
            # part of the model (and would change its digest on the next machine).
            for cache in local.rglob("__pycache__"):
                shutil.rmtree(cache, ignore_errors=True)
            digest = model_digest(local)
            _client.log_model_artifacts(client, logged, local)
        _client.set_logged_model_tags(client, logged.model_id, {DIGEST_TAG: digest})
        final = _client.finalize_logged_model(client, logged.model_id, "LOGGED_MODEL_READY")
    except BaseException:
        _client.finalize_logged_model(client, logged.model_id, "LOGGED_MODEL_UPLOAD_FAILED")
        raise
    return _info(final, mlmodel)


def _info(model: LoggedModel, meta: Model) -> ModelInfo:
    return ModelInfo(
        model_id=model.model_id,
        name=model.name,
        model_uri=model.model_uri,
        artifact_path=model.artifact_uri,
        run_id=model.source_run_id,
        flavors=meta.flavors,
        signature=meta.signature,
        saved_input_example_info=meta.saved_input_example_info,
        utc_time_created=meta.utc_time_created,
        model_uuid=meta.model_uuid,
        metadata=meta.metadata,
        cairn_version=meta.cairn_version,
        params=dict(model.params),
        tags=dict(model.tags),
    )
