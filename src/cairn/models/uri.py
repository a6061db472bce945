"""Model URIs: from wherever a model is named to a local model directory.

====================================  ==============================================================
URI                                   resolved through
====================================  ==============================================================
``/path/model``, ``file:///path``     the local folder itself (nothing copied)
``runs:/<run_id>/<name>``             the run's artifacts under ``<name>`` if they hold a model,
                                      else the logged model named ``<name>`` that the run
                                      produced (MLflow 3.x keeps model files there)
``models:/<model_id>``                the logged model's artifact location (``m-<32 hex>``)
``mlflow-artifacts:/...``             the tracking server's artifact proxy
``s3://...``, ``gs://...``, ...       fsspec
``models:/<name>/<version|stage>``,   the model registry, which cairn does not have yet: a clear
``models:/<name>@<alias>``            :class:`~cairn.models.errors.RegistryNotAvailable`
====================================  ==============================================================

Logged models carry the digest of their files (``cairn.model.digest``);
:class:`ResolvedModel` passes it on so that the loader can check the downloaded files against
it (see :mod:`cairn.models.trust`).

    >>> parse_model_uri("models:/m-0123456789abcdef0123456789abcdef")
    ('model_id', 'm-0123456789abcdef0123456789abcdef', '')
    >>> parse_model_uri("runs:/abc/model")
    ('run', 'abc', 'model')
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.artifacts.uri import local_path_from_uri, uri_scheme
from cairn.errors import CairnError, ResourceNotFound, StoreError
from cairn.models.errors import ModelNotFound, RegistryNotAvailable
from cairn.models.mlmodel import MLMODEL_FILE_NAME
from cairn.models.trust import DIGEST_TAG

if TYPE_CHECKING:
    from cairn.client import Client
    from cairn.entities import LoggedModel

__all__ = ["ResolvedModel", "parse_model_uri", "resolve_model_uri"]

MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")


@dataclass(frozen=True)
class ResolvedModel:
    """A model directory on local disk and what is known of its origin.

    Attributes:
        path: the local model directory.
        uri: the URI it was resolved from.
        model_id: the logged model's id, when it came from one.
        expected_digest: the digest the store recorded at log time; None for unknown origin.
    """

    path: Path
    uri: str
    model_id: str | None = None
    expected_digest: str | None = None


def parse_model_uri(uri: str) -> tuple[str, str, str]:
    """``(kind, id, path)``: kind is ``"run"``, ``"model_id"`` or ``"other"``.

    Raises:
        InvalidParameter-style errors for malformed ``runs:``/``models:`` URIs, and
        RegistryNotAvailable for registry URIs.
    """
    scheme = uri_scheme(uri)
    if scheme == "runs":
        rest = uri[len("runs:") :].lstrip("/")
        run_id, _, path = rest.partition("/")
        if not run_id:
            raise ModelNotFound(
                f"Malformed model URI {uri!r}: expected runs:/<run_id>/<path>, e.g. "
                "runs:/0a1b2c.../model"
            )
        return "run", run_id, path.strip("/")
    if scheme == "models":
        rest = uri[len("models:") :].lstrip("/").rstrip("/")
        if MODEL_ID.match(rest):
            return "model_id", rest, ""
        if not rest:
            raise ModelNotFound(f"Malformed model URI {uri!r}: expected models:/<model_id>")
        raise RegistryNotAvailable(
            f"Loading {uri!r} (a registered model name, version, stage or alias)"
        )
    return "other", "", uri


def resolve_model_uri(
    uri: str | os.PathLike[str],
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> ResolvedModel:
    """Find the model ``uri`` names and make it available as a local directory.

    Args:
        uri: any URI of the table in the module docstring.
        dst_path: where to download remote models (created if missing); a new temporary
            folder when None. Local models are used in place.
        tracking_uri: the tracking store for ``runs:``/``models:``/``mlflow-artifacts:``
            URIs; the configured one when None.

    Raises:
        ModelNotFound: nothing there, or the run has no such model.
        RegistryNotAvailable: a registry URI.
        InvalidParameter: an unsupported scheme (the message lists the supported ones).
    """
    text = os.fspath(uri)
    kind, ident, path = parse_model_uri(text)
    if kind == "other":
        scheme = uri_scheme(text)
        local = local_path_from_uri(text)
        if local is not None and scheme in ("", "file", "local"):
            return ResolvedModel(_local_model_dir(Path(local), text), text)
    if tracking_uri is None:
        from cairn import _fluent

        # The URI set with cairn.set_tracking_uri: mlflow-artifacts: URIs are served there.
        tracking_uri = _fluent.get_tracking_uri()
    if kind == "other":
        return ResolvedModel(_download(text, "", dst_path, tracking_uri), text)
    from cairn.client import Client

    client = Client(tracking_uri)
    if kind == "model_id":
        return _from_logged_model(client, ident, text, dst_path)
    return _from_run(client, ident, path, text, dst_path)


def _local_model_dir(path: Path, uri: str) -> Path:
    if path.is_file() and path.name == MLMODEL_FILE_NAME:
        path = path.parent
    if not path.exists():
        raise ModelNotFound(f"No model at {uri!r}: the path {str(path)!r} does not exist")
    return path


def _download(
    root_uri: str, path: str, dst_path: str | os.PathLike[str] | None, tracking_uri: str | None
) -> Path:
    from cairn.artifacts import get_artifact_repository

    dst = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp(prefix="cairn-model-"))
    dst.mkdir(parents=True, exist_ok=True)
    repo = get_artifact_repository(root_uri, tracking_uri)
    try:
        return Path(repo.download_artifacts(path, dst))
    except ResourceNotFound:
        where = f"{root_uri}/{path}" if path else root_uri
        raise ModelNotFound(f"No model at {where!r}: nothing is stored there") from None
    except CairnError:
        raise
    except Exception as err:  # storage clients raise their own kinds (credentials, network)
        where = f"{root_uri}/{path}" if path else root_uri
        raise StoreError(
            f"Cannot download the model from {where!r}: {type(err).__name__}: {err}"
        ) from err


def _from_logged_model(
    client: Client, model_id: str, uri: str, dst_path: str | os.PathLike[str] | None
) -> ResolvedModel:
    from cairn.models import _client

    try:
        model = _client.get_logged_model(client, model_id)
    except ResourceNotFound:
        raise ModelNotFound(
            f"No logged model {model_id!r} in the tracking store {client.tracking_uri}; "
            "check the id, or the tracking URI (cairn.set_tracking_uri / CAIRN_TRACKING_URI)"
        ) from None
    if model.status == "LOGGED_MODEL_UPLOAD_FAILED":
        raise ModelNotFound(
            f"Logged model {model_id!r} has status LOGGED_MODEL_UPLOAD_FAILED: its files were "
            "never completely uploaded. Log it again."
        )
    local = _download(model.artifact_uri, "", dst_path, client.tracking_uri)
    return ResolvedModel(local, uri, model.model_id, model.tags.get(DIGEST_TAG))


def _from_run(
    client: Client, run_id: str, path: str, uri: str, dst_path: str | os.PathLike[str] | None
) -> ResolvedModel:
    from cairn.models import _client

    try:
        run = client.get_run(run_id)
    except CairnError as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        raise ModelNotFound(
            f"Cannot resolve {uri!r}: no run {run_id!r} in the tracking store {client.tracking_uri}"
        ) from None
    repo_root = run.info.artifact_uri
    from cairn.artifacts import get_artifact_repository, join_uri

    repo = get_artifact_repository(repo_root, client.tracking_uri)
    if path and repo.file_info(f"{path}/{MLMODEL_FILE_NAME}") is not None:
        # A model stored in the run's own artifacts (MLflow 2.x style): no logged digest.
        return ResolvedModel(_download(repo_root, path, dst_path, client.tracking_uri), uri)
    candidates: list[LoggedModel] = []
    if path and "/" not in path:
        escaped = path.replace("'", "\\'")
        token = None
        while True:
            page = _client.search_logged_models(
                client,
                [run.info.experiment_id],
                f"name = '{escaped}'",
                page_token=token,
            )
            candidates.extend(m for m in page if m.source_run_id == run_id)
            token = page.token
            if not token:
                break
    if not candidates:
        logged = sorted({o.model_id for o in run.outputs.model_outputs} if run.outputs else set())
        hint = f" It produced the logged models {logged}." if logged else ""
        raise ModelNotFound(
            f"Cannot resolve {uri!r}: run {run_id} has no model named {path!r}, neither in "
            f"its artifacts ({join_uri(repo_root, path)}) nor among its logged models.{hint}"
        )
    newest = max(candidates, key=lambda m: m.creation_timestamp_ms)
    local = _download(newest.artifact_uri, "", dst_path, client.tracking_uri)
    return ResolvedModel(local, uri, newest.model_id, newest.tags.get(DIGEST_TAG))
